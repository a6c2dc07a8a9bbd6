import type pg from "pg";
import type { Config } from "../config.ts";
import { deleteExpiredIdempotencyKeys } from "./idempotency.ts";

export interface Pruned {
  outbox: number;
  inbox: number;
  idempotencyKeys: number;
}

/**
 * Deletes what has served its time, so no table grows forever: published outbox rows, inbox rows
 * (kept longer than the topics keep records, so a redelivery is always recognised) and expired
 * idempotency keys. Parked outbox rows stay until someone has looked at them.
 */
export async function pruneExpiredRows(pool: pg.Pool, retention: Config["retention"]): Promise<Pruned> {
  const [outbox, inbox, idempotencyKeys] = await Promise.all([
    pool.query("DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1)", [retention.outboxHours]),
    pool.query("DELETE FROM inbox WHERE received_at < now() - make_interval(hours => $1)", [retention.inboxHours]),
    deleteExpiredIdempotencyKeys(pool, retention.idempotencyKeyHours),
  ]);
  return { outbox: outbox.rowCount ?? 0, inbox: inbox.rowCount ?? 0, idempotencyKeys };
}
