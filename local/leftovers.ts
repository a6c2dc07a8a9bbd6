import { readFile, appendFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { waitUntil } from "./process.ts";

/**
 * Processes a stack started, written down so that the next start of the same stack can stop
 * them if the previous one was killed before it could clean up (kill -9, a CI timeout).
 * A pid is only signalled while its command line or environment still holds the marker it was
 * recorded with, so a reused pid is never touched.
 */
const file = (dir: string) => path.join(dir, "..", `${path.basename(dir)}.pids`);

export async function recordProcess(dir: string, pid: number | undefined, marker: string): Promise<void> {
  if (!pid || pid < 0) return;
  await mkdir(path.dirname(file(dir)), { recursive: true });
  await appendFile(file(dir), `${JSON.stringify({ pid, marker })}\n`);
}

async function commandLine(pid: number): Promise<string | undefined> {
  try {
    const [cmdline, environ] = await Promise.all([readFile(`/proc/${pid}/cmdline`, "utf8"), readFile(`/proc/${pid}/environ`, "utf8").catch(() => "")]);
    return `${cmdline}\0${environ}`.replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/** Each was spawned as the leader of its own process group: the group goes with it. */
function signal(pid: number, name: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, name);
      return;
    } catch {
      // not a group (any more), or gone
    }
  }
}

export async function stopLeftovers(dir: string, log: (line: string) => void): Promise<void> {
  const lines = (await readFile(file(dir), "utf8").catch(() => "")).split("\n").filter(Boolean);
  for (const line of lines) {
    const { pid, marker } = JSON.parse(line) as { pid: number; marker: string };
    if (!(await commandLine(pid))?.includes(marker)) continue;
    log(`! stopping pid ${pid} left over from an earlier run`);
    signal(pid, "SIGTERM");
    const gone = async () => (await commandLine(pid)) === undefined;
    await waitUntil(gone, { timeoutMs: 10_000, intervalMs: 100, what: `pid ${pid} to stop` }).catch(() => {
      signal(pid, "SIGKILL");
      return waitUntil(gone, { timeoutMs: 5_000, intervalMs: 100, what: `pid ${pid} to die` });
    });
  }
  await rm(file(dir), { force: true });
}
