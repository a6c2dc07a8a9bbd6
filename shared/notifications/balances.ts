import type { BalanceUpdated } from "../contract/events.ts";
import { db } from "../db/pool.ts";
import type { Tx } from "../db/transaction.ts";
import { afterCommit } from "../effects/unit-of-work.ts";
import { logger } from "../logger.ts";

/**
 * Keeps the latest announced balance of a user (for snapshots), inside the caller's transaction,
 * and has it pushed to the user's open sockets after the commit. The version guard drops an
 * announcement older than the one already kept.
 */
export async function recordBalance(tx: Tx, event: BalanceUpdated): Promise<void> {
  // One statement: the inbox row, then the balance if this announcement is newer than the one kept.
  const kept = await tx.query(
    `WITH received AS (
       INSERT INTO inbox (event_id, topic) VALUES ($1, 'payments.balance-updated') ON CONFLICT (event_id) DO NOTHING RETURNING event_id
     )
     INSERT INTO known_balances (user_id, balance, version) SELECT $2, $3, $4 FROM received
     ON CONFLICT (user_id) DO UPDATE SET balance = excluded.balance, version = excluded.version, updated_at = now()
     WHERE known_balances.version < excluded.version`,
    [event.event_id, event.user_id, event.balance, event.version],
  );
  if (kept.rowCount !== 1) {
    logger.info(
      { correlation_id: event.correlation_id, user_id: event.user_id, version: event.version },
      "duplicate or stale balance announcement not pushed",
    );
    return;
  }
  afterCommit(tx, {
    kind: "push",
    userId: event.user_id,
    frames: [{ type: "BALANCE_UPDATED", user_id: event.user_id, balance: event.balance }],
    correlationId: event.correlation_id,
  });
}

export async function knownBalance(userId: string): Promise<number | null> {
  const result = await db("orders").query<{ balance: number }>(
    "SELECT balance FROM known_balances WHERE user_id = $1",
    [userId],
  );
  return result.rows[0]?.balance ?? null;
}
