import type middy from "@middy/core";
import { hasStandingQueue } from "../db/queue-meter.ts";
import { countMetric } from "../metrics/emit.ts";

/** The shop takes in more than it can do: answered 503 with Retry-After at once, not queued. */
export class Overloaded extends Error {
  constructor() {
    super("requests hold a standing queue for database connections");
    this.name = "Overloaded";
  }
}

/**
 * Middy middleware: while requests hold a standing queue for this process's database connections
 * (pool.ts), a new one is refused before any work, in milliseconds, instead of waiting its turn
 * and timing out; the orders already taken keep settling. A burst is no standing queue and is
 * taken in whole.
 */
export function shedLoad(): middy.MiddlewareObj {
  return {
    before: async () => {
      if (hasStandingQueue()) {
        countMetric("RequestsShed");
        throw new Overloaded();
      }
    },
  };
}
