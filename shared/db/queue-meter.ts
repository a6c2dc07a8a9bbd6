import type pg from "pg";
import { poolsOfThisFunction } from "./pool.ts";

/** A queue for connections that even its quickest turn in a whole window waited longer than this for is standing. */
const TARGET_WAIT_MS = 200;
const WINDOW_MS = 1_000;

interface Waits {
  /** The shortest wait for a connection in the current window. */
  shortest: number;
  windowStart: number;
  /** When the last window that ended found a standing queue; 0 if it did not. */
  standingAt: number;
}
const waits = new WeakMap<pg.Pool, Waits>();

/**
 * Checks a connection out, timing the wait as CoDel times a queue: a burst makes some requests wait,
 * but while even the quickest of a whole second waited longer than TARGET_WAIT_MS, the pool holds a
 * standing queue and more requests only lengthen it (see hasStandingQueue). Only a wait behind
 * busy connections counts: opening a new one (a cold start on Lambda) is no queue.
 */
export async function connectTimed(pool: pg.Pool): Promise<pg.PoolClient> {
  const behindOthers = pool.idleCount === 0 && pool.totalCount >= (pool.options.max ?? 10);
  const started = performance.now();
  const client = await pool.connect();
  const now = performance.now();
  const w = waits.get(pool) ?? { shortest: Infinity, windowStart: started, standingAt: 0 };
  waits.set(pool, w);
  w.shortest = Math.min(w.shortest, behindOthers ? now - started : 0);
  if (now - w.windowStart >= WINDOW_MS) {
    w.standingAt = w.shortest > TARGET_WAIT_MS ? now : 0;
    w.shortest = Infinity;
    w.windowStart = now;
  }
  return client;
}

/**
 * Whether a pool of this function held a standing queue for connections in the last window (a
 * verdict older than two windows has expired: nobody waited since). On Lambda a container serves
 * one request at a time and never queues; where many functions share a process (serverless-offline)
 * this is how it notices that it takes in more than its databases can do.
 */
export function hasStandingQueue(): boolean {
  const now = performance.now();
  return poolsOfThisFunction().some((pool) => {
    const standingAt = waits.get(pool)?.standingAt ?? 0;
    return standingAt > 0 && now - standingAt < 2 * WINDOW_MS;
  });
}
