import type pg from "pg";

/** Marks rows published: called only once the broker acknowledged their records. */
export async function markRowsPublished(client: pg.PoolClient, ids: number[]): Promise<void> {
  await client.query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1)", [ids]);
}
