import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import type { Database } from "../contract/manifest.ts";
import { config } from "../config.ts";
import { currentFunction } from "../invocation.ts";
import { logger } from "../logger.ts";
import { clientTellingRefusals, databasePassword } from "./secret-password.ts";

// BIGINT columns hold money in whole units; they stay far below 2^53, so numbers are safe and
// far nicer to work with than the strings pg returns by default.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;

const pools = new Map<string, pg.Pool>();

/**
 * Where and as whom to connect. On an AWS stage the URL has no password: the pool asks its secret
 * for it on every new connection (secret-password.ts: cached, read again after a rotation). Locally
 * the URL holds it. (pg reads a connectionString after `password`, so the URL is taken apart here.)
 */
function connectionOf(connectionString: string, passwordSecret: string | undefined): pg.PoolConfig {
  if (!passwordSecret) return { connectionString };
  const source = databasePassword(passwordSecret);
  return {
    ...parseIntoClientConfig(connectionString),
    password: () => source.password(),
    Client: clientTellingRefusals(source, passwordSecret),
  };
}

/**
 * One pool per database per container, and so per function: locally, where one process runs every
 * function, each still has pools of its own, and a burst of one function cannot take the
 * connections another needs. Its size is DB_POOL_MAX: 20 by default, for that local process
 * taking many events at once; an AWS stage sets its `dbPoolMax` (2 by default), as a container
 * takes one event at a time. Every wait is bounded: a database that is down or hangs fails the
 * call within seconds instead of holding it.
 */
function poolFor(connectionString: string, passwordSecret: string | undefined): pg.Pool {
  const key = `${currentFunction() ?? ""}\0${connectionString}`;
  let pool = pools.get(key);
  if (!pool) {
    const cfg = config();
    pool = new pg.Pool({
      ...connectionOf(connectionString, passwordSecret),
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
    pool.on("error", (error) =>
      logger.warn({ err: error, database: pool?.options.database }, "idle database connection lost"),
    );
    // Idle, the pool listens to a client; checked out, withConnection does. Between (a client being
    // closed: the pool removed it and its socket is still open) nobody would, and a server stopping
    // right then would crash the process: such a client's error no longer concerns anyone.
    pool.on("connect", (client) => client.on("error", () => undefined));
    pools.set(key, pool);
  }
  return pool;
}

function databaseUrl(database: Database): string {
  const url = database === "orders" ? config().ordersDatabaseUrl : config().paymentsDatabaseUrl;
  if (!url) {
    const variable = database === "orders" ? "ORDERS_DATABASE_URL" : "PAYMENTS_DATABASE_URL";
    throw new Error(
      `${variable} is not set: the ${database} database's URL (npm start sets it for the functions and prints it)`,
    );
  }
  return url;
}

export const db = (database: Database): pg.Pool =>
  poolFor(databaseUrl(database), config().databasePasswordSecrets[database]);

/** The pools of the function whose invocation is under way (locally, one process runs them all). */
export function poolsOfThisFunction(): pg.Pool[] {
  const mine = `${currentFunction() ?? ""}\0`;
  return [...pools].filter(([key]) => key.startsWith(mine)).map(([, pool]) => pool);
}

/** Closes every pool of this process (a test's teardown, before its database goes away). */
export async function endPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.end().catch(() => undefined)));
}
