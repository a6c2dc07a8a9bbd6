import type pg from "pg";

/**
 * Commits that wrote outbox rows, as the relay's connection hears of them (LISTEN outbox, notified
 * by migrations/messaging/002). One that arrives while the relay is still reading counts too, so
 * none is slept through.
 */
export class OutboxWrites {
  private heard = false;
  private wake: (() => void) | undefined;
  private readonly listener = () => {
    this.heard = true;
    this.wake?.();
  };

  constructor(private readonly client: pg.PoolClient) {
    client.on("notification", this.listener);
  }

  /** Starts hearing of writes; until then only `next`'s timeout ends a wait. */
  async listen(): Promise<void> {
    await this.client.query("LISTEN outbox");
  }

  /** Forgets what was heard: the relay is about to read the outbox. */
  seen(): void {
    this.heard = false;
  }

  /** Resolves at the next write heard since seen(), or after `ms`. */
  next(ms: number): Promise<void> {
    if (this.heard) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => ((this.wake = undefined), resolve()), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** Stops listening on this side; the connection's UNLISTEN is the relay's, with its unlock. */
  stop(): void {
    this.client.removeListener("notification", this.listener);
    this.wake?.();
  }
}
