import { spawn } from "node:child_process";
import { constants, createWriteStream } from "node:fs";
import { access, readdir, readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export const describeExit = ({ code, signal }: ExitStatus): string => (signal ? `signal ${signal}` : `code ${code}`);

export interface SpawnOptions {
  /** Names the process in messages. */
  name: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Every line is appended here too. */
  logFile?: string;
  onLine?: (line: string) => void;
  /** What asks it to stop cleanly (SIGTERM unless said otherwise). */
  stopSignal?: NodeJS.Signals;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** How it ended; undefined while it runs. */
  readonly exitStatus: ExitStatus | undefined;
  readonly exited: Promise<ExitStatus>;
  /** Its last output lines. */
  tail(lines?: number): string;
  /** Signals the whole process group. */
  signalGroup(signal: NodeJS.Signals): void;
  /** Asks the group to stop, waits up to `graceMs`, then kills what is left of it; resolves once the group is gone. */
  stop(graceMs?: number): Promise<void>;
}

const KEEP_LINES = 50;
const live = new Set<Child>();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Spawns `command` as the leader of a process group of its own: a Ctrl-C in the terminal reaches
 * only us (we stop things in order), and stopping it reaches whatever it forked.
 */
export function spawnChild(command: string, args: string[], options: SpawnOptions): Child {
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    uid: options.uid,
    gid: options.gid,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: string[] = [];
  const log = options.logFile ? createWriteStream(options.logFile, { flags: "a" }) : undefined;
  log?.on("error", () => undefined);
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > KEEP_LINES) lines.shift();
    log?.write(`${line}\n`);
    options.onLine?.(line);
  };
  for (const stream of [proc.stdout, proc.stderr]) {
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const split = (partial + chunk.toString("utf8")).split("\n");
      partial = split.pop() ?? "";
      split.forEach(onLine);
    });
  }
  let exitStatus: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    const done = (status: ExitStatus) => {
      exitStatus ??= status;
      live.delete(child);
      log?.end();
      resolve(exitStatus);
    };
    proc.once("exit", (code, signal) => done({ code, signal }));
    proc.once("error", (error) => (onLine(String(error)), done({ code: -1, signal: null })));
  });
  const pid = proc.pid ?? -1;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (pid < 0) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const child: Child = {
    name: options.name,
    pid,
    get exitStatus() {
      return exitStatus;
    },
    exited,
    tail: (count = KEEP_LINES) => lines.slice(-count).join("\n"),
    signalGroup,
    async stop(graceMs = 10_000) {
      const gone = async () => exitStatus !== undefined && (await groupGone(pid));
      if (pid < 0 || (await gone())) return;
      signalGroup(graceMs > 0 ? (options.stopSignal ?? "SIGTERM") : "SIGKILL");
      if (graceMs > 0)
        await waitUntil(gone, { timeoutMs: graceMs, intervalMs: 50, what: `${options.name} to stop` }).catch(
          () => undefined,
        );
      if (!(await gone())) {
        signalGroup("SIGKILL");
        await waitUntil(gone, { timeoutMs: 5_000, intervalMs: 50, what: `${options.name} to die` });
      }
    },
  };
  if (pid >= 0) live.add(child);
  return child;
}

/**
 * True once no process of the group is left, zombies aside: an orphan's zombie lingers until
 * PID 1 reaps it (here about two seconds later), and it holds nothing.
 */
export async function groupGone(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
  const pids = await readdir("/proc").catch(() => undefined);
  if (!pids) return false;
  for (const pid of pids.filter((name) => /^\d+$/.test(name))) {
    // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") return false;
  }
  return true;
}

/** Kills every process group spawned here that is still running, at once: for a second Ctrl-C and for exit. */
export function killAllChildren(): void {
  for (const child of live) child.signalGroup("SIGKILL");
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is awaited, for the message when it does not happen. */
  what: string;
  /** Gives up as soon as this process has exited. */
  exited?: Pick<Child, "name" | "exitStatus" | "exited">;
}

/**
 * Calls `check` until it returns something other than undefined or false, and returns that. A
 * check that throws counts as "not yet" (its message ends up in the error when the wait gives
 * up); a check that hangs is cut short at the deadline.
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last = "";
  for (;;) {
    const exit = options.exited?.exitStatus;
    if (exit) throw new Error(`waiting for ${options.what}: ${options.exited!.name} exited (${describeExit(exit)})`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const tooLate = new Promise<undefined>(
        (resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))),
      );
      const value = await Promise.race([check(), tooLate]);
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() >= deadline)
      throw new Error(
        `waiting for ${options.what}: gave up after ${options.timeoutMs / 1000} s${last ? ` (last error: ${last})` : ""}`,
      );
    const pause = sleep(Math.min(options.intervalMs ?? 200, deadline - Date.now()));
    await (options.exited ? Promise.race([pause, options.exited.exited]) : pause);
  }
}

/** Whether `command` is an executable file in a folder of PATH. */
export async function onPath(command: string): Promise<boolean> {
  const folders = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const found = await Promise.all(
    folders.map((folder) =>
      access(path.join(folder, command), constants.X_OK).then(
        () => true,
        () => false,
      ),
    ),
  );
  return found.includes(true);
}

/** Whether something accepts TCP connections on host:port (within half a second). */
export function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(500);
    const done = (ok: boolean) => (socket.destroy(), resolve(ok));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}
