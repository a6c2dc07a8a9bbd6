import pg from "pg";
import type { Database } from "../after-commit.ts";
import { config } from "../config.ts";
import { currentFunction } from "../invocation.ts";
import { logger } from "../logger.ts";

// BIGINT columns hold money in whole units; they stay far below 2^53, so numbers are safe and
// far nicer to work with than the strings pg returns by default.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

const pools = new Map<string, pg.Pool>();

/**
 * One small pool per database per container (a Lambda handles one event at a time), and so per
 * function: locally, where one process runs every function, each still has pools of its own, and
 * a burst of one function cannot take the connections another needs. Every wait is bounded: a
 * database that is down or hangs fails the call within seconds instead of holding it.
 */
function poolFor(connectionString: string): pg.Pool {
  const key = `${currentFunction() ?? ""}\0${connectionString}`;
  let pool = pools.get(key);
  if (!pool) {
    const cfg = config();
    pool = new pg.Pool({
      connectionString,
      max: cfg.dbPoolMax,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: cfg.dbConnectTimeoutMs,
      // The server ends a statement that runs too long; the client gives up on a server that went silent.
      statement_timeout: cfg.dbStatementTimeoutMs,
      query_timeout: cfg.dbStatementTimeoutMs + 2_000,
      keepAlive: true,
      // Statements sent together share a round trip (see withTransaction); answers still come in order.
      pipeline: true,
      // `sls invoke local` ends when the handler is done, not 30 s later.
      allowExitOnIdle: true,
    });
    // An idle client losing its server must not crash the container; the next query reconnects.
    pool.on("error", (error) => logger.warn({ err: error, database: pool?.options.database }, "idle database connection lost"));
    // Idle, the pool listens to a client; checked out, withConnection does. Between (a client being
    // closed: the pool removed it and its socket is still open) nobody would, and a server stopping
    // right then would crash the process: such a client's error no longer concerns anyone.
    pool.on("connect", (client) => client.on("error", () => undefined));
    pools.set(key, pool);
  }
  return pool;
}

function databaseUrl(database: Database): string {
  return database === "orders" ? config().ordersDatabaseUrl : config().paymentsDatabaseUrl;
}

export const db = (database: Database): pg.Pool => poolFor(databaseUrl(database));

/**
 * Runs `work` on a connection of `pool`. A checked-out client has no listener of the pool's, so one
 * is attached here: a server that dies meanwhile fails `work`, never the process. `discard` tells
 * the pool not to reuse the connection (its session state is unknown: a failed rollback, a lock
 * that may still be held).
 */
export async function withConnection<T>(pool: pg.Pool, work: (client: pg.PoolClient, discard: (why: Error) => void) => Promise<T>): Promise<T> {
  const client = await connectTimed(pool);
  const onError = (error: Error) => logger.warn({ err: error, database: pool.options.database }, "database connection lost while in use");
  client.on("error", onError);
  let broken: Error | undefined;
  try {
    return await work(client, (why) => void (broken ??= why));
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}

/**
 * Lets the statements a connection is given within one tick leave in one write: the first corks
 * its socket, and it is uncorked once the tick's work is done. The connection pipelines (see
 * withTransaction), so a batch's statements, or an outbox insert and its COMMIT, are sent
 * together; a write is a system call, and on loopback it costs more than building the statements.
 * (The socket is node-postgres's `connection.stream`; without one, writes simply go one by one.)
 */
export function writesTogether(client: pg.PoolClient): () => void {
  const socket = (client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void } } }).connection?.stream;
  let corked = false;
  return () => {
    if (corked || !socket?.cork || !socket.uncork) return;
    corked = true;
    socket.cork();
    process.nextTick(() => {
      corked = false;
      socket.uncork!();
    });
  };
}

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
async function connectTimed(pool: pg.Pool): Promise<pg.PoolClient> {
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
  const mine = `${currentFunction() ?? ""}\0`;
  return [...pools].filter(([key]) => key.startsWith(mine)).some(([, pool]) => {
    const standingAt = waits.get(pool)?.standingAt ?? 0;
    return standingAt > 0 && now - standingAt < 2 * WINDOW_MS;
  });
}

/** Closes every pool of this process (a test's teardown, before its database goes away). */
export async function endPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.end().catch(() => undefined)));
}
