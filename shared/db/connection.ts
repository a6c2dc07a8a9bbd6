import type pg from "pg";
import { logger } from "../logger.ts";
import { connectTimed } from "./queue-meter.ts";

/**
 * Runs `work` on a connection of `pool`. A checked-out client has no listener of the pool's, so one
 * is attached here: a server that dies meanwhile fails `work`, never the process. `discard` tells
 * the pool not to reuse the connection (its session state is unknown: a failed rollback, a lock
 * that may still be held).
 */
export async function withConnection<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient, discard: (why: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await connectTimed(pool);
  const onError = (error: Error) =>
    logger.warn({ err: error, database: pool.options.database }, "database connection lost while in use");
  client.on("error", onError);
  let broken: Error | undefined;
  try {
    return await work(client, (why) => void (broken ??= why));
  } finally {
    client.removeListener("error", onError);
    client.release(broken);
  }
}
