import pg from "pg";
import type { Database } from "../after-commit.ts";
import { config } from "../config.ts";
import { logger } from "../logger.ts";

// BIGINT columns hold money in whole units; they stay far below 2^53, so numbers are safe and
// far nicer to work with than the strings pg returns by default.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

const pools = new Map<string, pg.Pool>();

/**
 * One small pool per database per container (a Lambda handles one event at a time). Every wait is
 * bounded: a database that is down or hangs fails the call within seconds instead of holding it.
 */
function poolFor(connectionString: string): pg.Pool {
  let pool = pools.get(connectionString);
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
    pools.set(connectionString, pool);
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
  const client = await pool.connect();
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

/** Closes every pool of this process (a test's teardown, before its database goes away). */
export async function endPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.end().catch(() => undefined)));
}
