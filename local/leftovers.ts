import { readFile, appendFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Processes a stack started, written down so that the next start of the same stack can stop
 * them if the previous one was killed before it could clean up (kill -9, a CI timeout).
 * A pid is only signalled while its command line or environment still holds the marker it was
 * recorded with, so a reused pid is never touched.
 */
const file = (dir: string) => path.join(dir, "..", `${path.basename(dir)}.pids`);

export async function recordProcess(dir: string, pid: number | undefined, marker: string): Promise<void> {
  if (!pid) return;
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

export async function stopLeftovers(dir: string, log: (line: string) => void): Promise<void> {
  const lines = (await readFile(file(dir), "utf8").catch(() => "")).split("\n").filter(Boolean);
  for (const line of lines) {
    const { pid, marker } = JSON.parse(line) as { pid: number; marker: string };
    if (!(await commandLine(pid))?.includes(marker)) continue;
    log(`! stopping pid ${pid} left over from an earlier run`);
    process.kill(pid, "SIGTERM");
    for (let waited = 0; waited < 10_000 && (await commandLine(pid)); waited += 100) await new Promise((r) => setTimeout(r, 100));
    if (await commandLine(pid)) process.kill(pid, "SIGKILL");
  }
  await rm(file(dir), { force: true });
}
