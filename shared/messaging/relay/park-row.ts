import type pg from "pg";
import { logger } from "../../logger.ts";

/** Sets aside a row the broker refused, with its error, so the rows behind it go on. */
export async function parkRow(
  client: pg.PoolClient,
  row: { id: number; topic: string },
  reason: string,
): Promise<void> {
  await client.query("UPDATE outbox SET attempts = attempts + 1, last_error = $2, parked_at = now() WHERE id = $1", [
    row.id,
    reason,
  ]);
  logger.error({ outbox_id: row.id, topic: row.topic, reason }, "broker refused an outbox row; parked");
}
