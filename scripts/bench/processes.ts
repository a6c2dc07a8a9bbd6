import { readdir, readFile } from "node:fs/promises";

/**
 * CPU seconds and peak memory of a process with its process group and its children (PostgreSQL's
 * backends put themselves in groups of their own, so they are found as the postmaster's children).
 */
export interface Usage {
  cpuSeconds: number;
  peakRssMb: number;
}

const TICKS_PER_SECOND = 100;

async function statOf(
  pid: number,
): Promise<{ ppid: number; pgrp: number; cpu: number; reapedCpu: number; rssPages: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is the state (field 3 of proc(5)); ppid is field 4, pgrp 5, utime 14, stime 15,
    // cutime 16 and cstime 17 (children it waited for), rss 24.
    return {
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
      cpu: Number(fields[11]) + Number(fields[12]),
      reapedCpu: Number(fields[13]) + Number(fields[14]),
      rssPages: Number(fields[21]),
    };
  } catch {
    return undefined;
  }
}

/** Samples the groups of the given leaders once a second: CPU used since start() and the highest memory seen. */
export class ProcessSampler {
  private readonly start = new Map<string, number>();
  private readonly last = new Map<string, number>();
  private readonly peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly leaders: () => Record<string, number | undefined>) {}

  private async sample(): Promise<Map<string, { cpu: number; rss: number }>> {
    const groups = new Map(
      Object.entries(this.leaders())
        .filter((e): e is [string, number] => e[1] !== undefined)
        .map(([name, pid]) => [pid, name]),
    );
    const totals = new Map<string, { cpu: number; rss: number }>();
    for (const entry of await readdir("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await statOf(Number(entry));
      const name = stat && (groups.get(stat.pgrp) ?? groups.get(stat.ppid) ?? groups.get(Number(entry)));
      if (!stat || !name) continue;
      const total = totals.get(name) ?? { cpu: 0, rss: 0 };
      // A leader's reaped children count too: PostgreSQL's backends end with their connections,
      // and without their time a group's CPU would shrink between two samples.
      const leader = groups.has(Number(entry));
      total.cpu += (stat.cpu + (leader ? stat.reapedCpu : 0)) / TICKS_PER_SECOND;
      total.rss += (stat.rssPages * 4096) / 1024 / 1024;
      totals.set(name, total);
    }
    return totals;
  }

  async begin(): Promise<void> {
    this.start.clear();
    this.peak.clear();
    for (const [name, { cpu, rss }] of await this.sample()) {
      this.start.set(name, cpu);
      this.peak.set(name, rss);
    }
    this.timer = setInterval(() => void this.tick(), 1_000);
  }

  private async tick(): Promise<void> {
    for (const [name, { cpu, rss }] of await this.sample()) {
      this.last.set(name, cpu);
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, rss));
    }
  }

  async end(): Promise<Record<string, Usage>> {
    clearInterval(this.timer);
    await this.tick();
    return Object.fromEntries(
      [...this.last].map(([name, cpu]) => [
        name,
        {
          cpuSeconds: Number((cpu - (this.start.get(name) ?? cpu)).toFixed(1)),
          peakRssMb: Math.round(this.peak.get(name) ?? 0),
        },
      ]),
    );
  }
}
