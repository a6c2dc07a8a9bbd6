import { createHash } from "node:crypto";
import { IdempotencyKeyReused } from "../errors.ts";
import type { Tx } from "./transaction.ts";

export interface Replayable<T> {
  result: T;
  replayed: boolean;
}

/**
 * Runs `work` at most once per (scope, key) within the key's retention period, inside the caller's
 * transaction. The key row is inserted first: a concurrent request with the same key blocks on it
 * until this transaction ends, then sees the stored result (replayed) or, if this one rolled back,
 * runs itself. A key older than the period counts as new (the sweep deletes such rows). Without a
 * key, `work` simply runs.
 */
export async function oncePerIdempotencyKey<T>(
  tx: Tx,
  scope: string,
  key: string | undefined,
  request: unknown,
  retentionHours: number,
  work: () => Promise<T>,
): Promise<Replayable<T>> {
  if (key === undefined) return { result: await work(), replayed: false };
  const requestHash = createHash("sha256").update(JSON.stringify(request)).digest("hex");
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash, result = NULL, created_at = now()
       WHERE idempotency_keys.created_at < now() - make_interval(hours => $4)`,
    [scope, key, requestHash, retentionHours],
  );
  if (claimed.rowCount === 1) {
    const result = await work();
    await tx.query("UPDATE idempotency_keys SET result = $3 WHERE scope = $1 AND key = $2", [
      scope,
      key,
      JSON.stringify(result),
    ]);
    return { result, replayed: false };
  }
  const stored = await tx.query<{ request_hash: string; result: T }>(
    "SELECT request_hash, result FROM idempotency_keys WHERE scope = $1 AND key = $2",
    [scope, key],
  );
  const row = stored.rows[0];
  if (!row || row.request_hash !== requestHash) throw new IdempotencyKeyReused();
  return { result: row.result, replayed: true };
}

/** Forgets keys past their retention period. */
export async function deleteExpiredIdempotencyKeys(tx: Pick<Tx, "query">, retentionHours: number): Promise<number> {
  const result = await tx.query("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)", [
    retentionHours,
  ]);
  return result.rowCount ?? 0;
}
