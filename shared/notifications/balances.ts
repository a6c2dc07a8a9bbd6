import type { BalanceUpdated, PaymentProcessed } from "../contract/events.ts";
import { db } from "../db/pool.ts";
import { pipelined, sql, type Pipelined } from "../db/pipelined.ts";
import type { AtCommit } from "../db/transaction.ts";
import { afterCommit } from "../effects/unit-of-work.ts";
import { logger } from "../logger.ts";

/**
 * Keeps the latest announced balance of a user (for snapshots), inside the caller's transaction,
 * and has it pushed to the user's open sockets after the commit. The version guard drops an
 * announcement older than the one already kept. A charge's balance is not pushed from here: it
 * rides on the order's frame (keepBalanceOfPayment), one message per order.
 */
export function recordBalance(event: BalanceUpdated): Pipelined {
  // One statement: the inbox row, then the balance if this announcement is newer than the one kept.
  const keep = sql(
    `WITH received AS (
       INSERT INTO inbox (event_id, topic) VALUES ($1, 'payments.balance-updated') ON CONFLICT (event_id) DO NOTHING RETURNING event_id
     )
     INSERT INTO known_balances (user_id, balance, version) SELECT $2, $3, $4 FROM received
     ON CONFLICT (user_id) DO UPDATE SET balance = excluded.balance, version = excluded.version, updated_at = now()
     WHERE known_balances.version < excluded.version`,
    [event.event_id, event.user_id, event.balance, event.version],
  );
  return pipelined([keep], (tx, [kept]) => {
    if (kept.rowCount !== 1) {
      logger.info(
        { correlation_id: event.correlation_id, user_id: event.user_id, version: event.version },
        "duplicate or stale balance announcement not pushed",
      );
      return;
    }
    // A charge's balance rides on the order's frame; announcements of charges come only from
    // records written before payments.processed carried it.
    if (event.cause !== "charge") pushBalance(tx, event.user_id, event, event.correlation_id);
  });
}

/**
 * Keeps the balance a payment left (payments.processed carries it), in the transaction that
 * settles the order, and has it pushed with the order's frame (coalesceFrames). Kept and pushed
 * unless a newer balance is already kept; the same version again is kept and pushed again, since
 * its announcement on payments.balance-updated may have come first and pushed nothing. A payment
 * that left no balance (it was refused) sends nothing.
 */
export function keepBalanceOfPayment(event: PaymentProcessed): Pipelined {
  const { balance } = event;
  if (!balance) return pipelined([], () => undefined);
  const keep = sql(
    `INSERT INTO known_balances (user_id, balance, version) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET balance = excluded.balance, version = excluded.version, updated_at = now()
     WHERE known_balances.version <= excluded.version`,
    [event.user_id, balance.balance, balance.version],
  );
  return pipelined([keep], (tx, [kept]) => {
    if (kept.rowCount === 1) pushBalance(tx, event.user_id, balance, event.order_id);
  });
}

function pushBalance(
  tx: AtCommit,
  userId: string,
  { balance, version }: { balance: number; version: number },
  correlationId: string,
) {
  afterCommit(tx, {
    kind: "push",
    userId,
    frames: [{ type: "BALANCE_UPDATED", user_id: userId, balance, version }],
    correlationId,
  });
}

export async function knownBalance(userId: string): Promise<number | null> {
  const result = await db("orders").query<{ balance: number }>(
    "SELECT balance FROM known_balances WHERE user_id = $1",
    [userId],
  );
  return result.rows[0]?.balance ?? null;
}
