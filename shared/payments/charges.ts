import type { OrderCreated, PaymentProcessed } from "../contract/events.ts";
import type { PaymentFailureReason } from "../contract/order.ts";
import type { Tx } from "../db/transaction.ts";
import { forOrder } from "../logger.ts";
import { recordInInbox } from "../messaging/inbox.ts";
import { emit } from "../messaging/outbox.ts";
import { announceBalance, type ChangedAccount } from "./balance-events.ts";

export type ChargeOutcome = "duplicate" | PaymentProcessed["status"];

/**
 * Charges an order exactly once, inside the caller's transaction: the inbox row first (a
 * redelivered event stops here), the order's payment row (a second event for the same order stops
 * here), the conditional debit that can never take the balance below zero, the ledger entry, and
 * the payments.processed and payments.balance-updated events in the outbox.
 */
export async function chargeOrder(tx: Tx, event: OrderCreated): Promise<ChargeOutcome> {
  const log = forOrder(event.order_id, { event_id: event.event_id, user_id: event.user_id });
  if (!(await recordInInbox(tx, event.event_id, "orders.created")) || !(await claimPayment(tx, event))) {
    log.info("order already charged; event ignored");
    return "duplicate";
  }
  const reason = await debit(tx, event);
  const status = reason === null ? "FINISHED" : "CANCELLED";
  await tx.query("UPDATE payments SET status = $2, reason = $3 WHERE order_id = $1", [event.order_id, status, reason]);
  await emit(tx, "payments.processed", { order_id: event.order_id, user_id: event.user_id, amount: event.amount, status, reason }, event.order_id);
  log.info({ status, reason }, "payment processed");
  return status;
}

async function claimPayment(tx: Tx, event: OrderCreated): Promise<boolean> {
  const claimed = await tx.query(
    `INSERT INTO payments (order_id, user_id, amount, status) VALUES ($1, $2, $3, 'CANCELLED')
     ON CONFLICT (order_id) DO NOTHING`,
    [event.order_id, event.user_id, event.amount],
  );
  return claimed.rowCount === 1;
}

/** Takes the order's amount from the account; answers why not when it cannot. */
async function debit(tx: Tx, event: OrderCreated): Promise<PaymentFailureReason | null> {
  if (event.amount <= 0) return "invalid_amount";
  // The WHERE clause is the whole guard: concurrent charges serialise on the row lock and each
  // re-checks the balance it finds, so the balance can never go negative.
  const debited = await tx.query<ChangedAccount>(
    `UPDATE accounts SET balance = balance - $2, version = version + 1, updated_at = now()
      WHERE user_id = $1 AND balance >= $2 RETURNING user_id, balance, version`,
    [event.user_id, event.amount],
  );
  const changed = debited.rows[0];
  if (changed) {
    await tx.query("INSERT INTO ledger (user_id, kind, amount, order_id) VALUES ($1, 'CHARGE', $2, $3)", [
      event.user_id,
      -event.amount,
      event.order_id,
    ]);
    await announceBalance(tx, changed, "charge", event.order_id);
    return null;
  }
  const exists = await tx.query("SELECT 1 FROM accounts WHERE user_id = $1", [event.user_id]);
  return exists.rowCount === 0 ? "account_not_found" : "insufficient_funds";
}
