import { setTimeout as sleep } from "node:timers/promises";
import {
  describeExit,
  spawnChild,
  waitUntil,
  type Child,
  type ExitStatus,
  type SpawnOptions,
  type WaitOptions,
} from "./process.ts";

export type PartName = "kafka" | "ordersDb" | "paymentsDb" | "offline" | "front" | "cognito" | "zipkin";

/** What a part's launch gets: everything it spawns and waits for is bounded by the attempt's time limit. */
export interface Attempt {
  /** True on the first start of a run, which begins with empty data; a restart keeps it. */
  fresh: boolean;
  spawn(command: string, args: string[], options: Omit<SpawnOptions, "name">): Child;
  wait<T>(
    check: () => Promise<T | undefined | false> | T | undefined | false,
    options: Omit<WaitOptions, "timeoutMs">,
  ): Promise<T>;
}

export interface Part {
  name: PartName;
  /** "orders PostgreSQL" */
  label: string;
  /** A string the command line or environment of everything it spawns holds (see leftovers.ts). */
  marker: string;
  startTimeoutMs: number;
  stopGraceMs: number;
  /** Spawns the part and resolves with its main process once it serves. */
  launch(attempt: Attempt): Promise<Child>;
}

export interface SupervisorHooks {
  say(line: string): void;
  record(pid: number, marker: string): void;
  /** The part is gone for good; the stack has to stop. */
  giveUp(error: Error): void;
}

const RESTART_TRIES = 5;
const TAIL_LINES = 20;
const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
const reason = (error: unknown) =>
  error instanceof AttemptFailed
    ? error.reason
    : (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
const indent = (text: string) =>
  text
    .split("\n")
    .map((line) => `    | ${line}`)
    .join("\n");

class AttemptFailed extends Error {
  constructor(
    label: string,
    readonly reason: string,
    readonly tail: string,
  ) {
    super(`${label} did not come up: ${reason}${tail ? `\n${indent(tail)}` : ""}`);
  }
}

/**
 * Runs one part the way Lambda runs a container: when it dies without being asked to, it is
 * replaced (on the same data) and announced; a part that cannot be replaced ends the stack.
 */
export class Supervisor {
  private child: Child | undefined;
  /** Processes of the start attempt under way, killed outright when the stack stops meanwhile. */
  private starting: Child[] = [];
  private stopping = false;
  private readonly stopped = new AbortController();
  private outageMs = 0;
  private waitingForBack: Array<{ resolve(): void; reject(error: Error): void }> = [];

  constructor(
    readonly part: Part,
    private readonly hooks: SupervisorHooks,
  ) {}

  get pid(): number | undefined {
    return this.child && !this.child.exitStatus ? this.child.pid : undefined;
  }

  /** The first start of a run: from empty data, retried once. */
  async start(): Promise<void> {
    try {
      await this.attempt(true);
    } catch (error) {
      if (this.stopping) throw error;
      this.hooks.say(`! ${(error as Error).message}`);
      this.hooks.say(`… ${this.part.label}: trying once more`);
      await this.attempt(true);
    }
  }

  /** Kills the running process (as `kill -9 <pid>` would); resolves once the part is back. */
  kill(signal: NodeJS.Signals = "SIGKILL", outageMs = 0): Promise<void> {
    const child = this.child;
    if (this.stopping || !child || child.exitStatus)
      return Promise.reject(new Error(`${this.part.label} is not running right now`));
    this.outageMs = outageMs;
    const back = new Promise<void>((resolve, reject) => this.waitingForBack.push({ resolve, reject }));
    process.kill(child.pid, signal);
    return back;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    await Promise.all([...this.starting.map((child) => child.stop(0)), this.child?.stop(this.part.stopGraceMs)]);
    this.settle(new Error(`${this.part.label} was stopped`));
  }

  private async attempt(fresh: boolean): Promise<Child> {
    if (this.stopping) throw new Error(`${this.part.label} was stopped`);
    const { label, startTimeoutMs, marker } = this.part;
    const spawned: Child[] = (this.starting = []);
    const deadline = Date.now() + startTimeoutMs;
    let late = false;
    // What does not finish in time is killed; every wait of the launch then ends at once.
    const timer = setTimeout(
      () => ((late = true), spawned.forEach((child) => void child.stop(0).catch(() => undefined))),
      startTimeoutMs,
    );
    try {
      const child = await this.part.launch({
        fresh,
        spawn: (command, args, options) => {
          if (late || this.stopping) throw new Error(late ? "out of time" : "stopped");
          const child = spawnChild(command, args, { ...options, name: label });
          spawned.push(child);
          this.hooks.record(child.pid, marker);
          return child;
        },
        wait: (check, options) => waitUntil(check, { ...options, timeoutMs: Math.max(0, deadline - Date.now()) }),
      });
      if (this.stopping) throw new Error(`${label} was stopped`);
      this.child = child;
      void child.exited.then((status) => {
        if (this.child === child && !this.stopping) void this.replace(child, status);
      });
      return child;
    } catch (error) {
      await Promise.all(spawned.map((child) => child.stop(0).catch(() => undefined)));
      const why = late ? `not up within ${startTimeoutMs / 1000} s` : reason(error);
      throw new AttemptFailed(label, why, this.stopping ? "" : (spawned.at(-1)?.tail(TAIL_LINES) ?? ""));
    } finally {
      clearTimeout(timer);
      this.starting = [];
    }
  }

  private async replace(dead: Child, status: ExitStatus): Promise<void> {
    const since = Date.now();
    const { label } = this.part;
    this.hooks.say(`✗ ${label} (pid ${dead.pid}) exited unexpectedly (${describeExit(status)}); restarting`);
    let failure: Error | undefined;
    try {
      // What the dead process left (a PostgreSQL's backends, still holding its shared memory) goes first.
      await dead.stop(0);
      if (this.outageMs) await sleep(this.outageMs, undefined, { signal: this.stopped.signal });
      this.outageMs = 0;
      for (let tries = 1; ; tries += 1) {
        try {
          await this.attempt(false);
          this.hooks.say(`✓ ${label} is back (${seconds(since)} s)`);
          return this.settle();
        } catch (error) {
          failure = error as Error;
          if (this.stopping || tries === RESTART_TRIES) break;
          const pause = 2_000 * 2 ** (tries - 1);
          this.hooks.say(
            `! ${label} did not come back (try ${tries} of ${RESTART_TRIES}: ${reason(error)}); next try in ${pause / 1000} s`,
          );
          await sleep(pause, undefined, { signal: this.stopped.signal });
        }
      }
    } catch (error) {
      failure = error as Error; // stopped while waiting, or the old process would not die
    }
    if (this.stopping) return this.settle(new Error(`${label} was stopped`));
    const tail = failure instanceof AttemptFailed ? failure.tail : dead.tail(TAIL_LINES);
    this.hooks.say(
      `✗ ${label} could not be brought back (${RESTART_TRIES} tries); its last log lines:\n${indent(tail)}`,
    );
    const error = new Error(`${label} could not be brought back: ${reason(failure)}`);
    this.settle(error);
    this.hooks.giveUp(error);
  }

  private settle(error?: Error): void {
    for (const waiter of this.waitingForBack.splice(0)) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }
}
