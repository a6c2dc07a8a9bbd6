import { spawn } from "node:child_process";
import { readFile, appendFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { groupGone, waitUntil } from "./process.ts";

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
    const [cmdline, environ] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, "utf8"),
      readFile(`/proc/${pid}/environ`, "utf8").catch(() => ""),
    ]);
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
  const leftovers = lines.map((line) => JSON.parse(line) as { pid: number; marker: string });
  await Promise.all(
    leftovers.map(async ({ pid, marker }) => {
      const ours = async () => (await commandLine(pid))?.includes(marker) ?? false;
      if (!(await ours())) return;
      const gone = async () => !(await ours()) && (await groupGone(pid));
      log(`! stopping pid ${pid} left over from an earlier run`);
      // SIGINT: serverless-offline's Ctrl-C, PostgreSQL's fast shutdown, a JVM's shutdown hooks.
      signal(pid, "SIGINT");
      await waitUntil(gone, { timeoutMs: 10_000, intervalMs: 100, what: `pid ${pid} to stop` })
        .catch(
          () => (
            signal(pid, "SIGKILL"),
            waitUntil(gone, { timeoutMs: 5_000, intervalMs: 100, what: `pid ${pid} to die` })
          ),
        )
        .catch((error: unknown) => log(`! ${String(error)}`));
    }),
  );
  await rm(file(dir), { force: true });
}

const self = fileURLToPath(import.meta.url);

/**
 * A watchdog for the start command: a process of its own that reads a pipe from it, and once
 * the pipe closes (the start command ended, even by a SIGKILL it could not handle: tsx sends one
 * when a relayed Ctrl-C goes unanswered for 30 ms) stops whatever the stack left running.
 */
export function watchOver(dir: string): void {
  spawn(process.execPath, [...process.execArgv, self, dir], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  }).unref();
}

if (process.argv[1] === self && process.argv[2]) {
  const dir = process.argv[2];
  process.stdin.on("data", () => undefined);
  process.stdin.once("close", () => void stopLeftovers(dir, () => undefined));
}
