import pg from "pg";
import { config } from "../config.ts";

// BIGINT columns hold money in whole units; they stay far below 2^53, so numbers are safe and
// far nicer to work with than the strings pg returns by default.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;
export type Queryable = pg.Pool | pg.PoolClient;

const pools = new Map<string, pg.Pool>();

/** One small pool per database URL per container: a Lambda handles one event at a time. */
export function poolFor(connectionString: string): pg.Pool {
  let pool = pools.get(connectionString);
  if (!pool) {
    // allowExitOnIdle: `sls invoke local` ends when the handler is done, not 30 s later.
    pool = new pg.Pool({ connectionString, max: 4, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000, allowExitOnIdle: true });
    // An idle client losing its server must not crash the container; the next query reconnects.
    pool.on("error", () => undefined);
    pools.set(connectionString, pool);
  }
  return pool;
}

export const ordersDb = (): pg.Pool => poolFor(config().ordersDatabaseUrl);
export const paymentsDb = (): pg.Pool => poolFor(config().paymentsDatabaseUrl);

export async function closeAllPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.end()));
}
