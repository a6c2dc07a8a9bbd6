import type pg from "pg";
import type { OutboundRecord } from "../publisher.ts";

/** An outbox row waiting for the broker, as the relay reads it. */
export interface UnpublishedRow {
  id: number;
  topic: string;
  record_key: Buffer | null;
  record_value: Buffer;
  record_headers: Array<{ name: string; value: string }>;
}

/**
 * The oldest rows neither published nor parked. Read by that state, never through a cursor on id:
 * a row that commits late, with a lower id than one already published, would be skipped.
 */
export async function unpublishedRows(client: pg.PoolClient, limit: number): Promise<UnpublishedRow[]> {
  const result = await client.query<UnpublishedRow>(
    `SELECT id, topic, record_key, record_value, record_headers FROM outbox
      WHERE published_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1`,
    [limit],
  );
  return result.rows;
}

/** Whether any row still waits: asked after letting go of the lock, for what came meanwhile. */
export async function hasUnpublishedRows(pool: pg.Pool): Promise<boolean> {
  const result = await pool.query<{ pending: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND parked_at IS NULL) AS pending",
  );
  return result.rows[0]?.pending ?? false;
}

/** The Kafka record a row holds (its headers are kept base64 in jsonb). */
export const recordOf = (row: UnpublishedRow): OutboundRecord => ({
  topic: row.topic,
  key: row.record_key,
  value: row.record_value,
  headers: row.record_headers.map(({ name, value }) => ({ name, value: Buffer.from(value, "base64") })),
});
