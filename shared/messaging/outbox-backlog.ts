import type pg from "pg";

/** Outbox lag: how many rows wait, how old the oldest is, and how many the broker refused. */
export async function outboxBacklog(
  pool: pg.Pool,
): Promise<{ pending: number; oldestSeconds: number | null; parked: number }> {
  const result = await pool.query<{ pending: number; oldest: number | null; parked: number }>(
    `SELECT count(*) FILTER (WHERE parked_at IS NULL)::int AS pending,
            extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL))::float8 AS oldest,
            count(*) FILTER (WHERE parked_at IS NOT NULL)::int AS parked
       FROM outbox WHERE published_at IS NULL`,
  );
  const row = result.rows[0];
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ?? null, parked: row?.parked ?? 0 };
}
