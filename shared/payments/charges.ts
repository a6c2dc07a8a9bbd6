import type { OrderCreated, PaymentProcessed } from "../contract/events.ts";
import type { PaymentFailureReason } from "../contract/order.ts";
import { pipelined, sql, type Pipelined, type Query } from "../db/pipelined.ts";
import { forOrder } from "../logger.ts";
import { emit } from "../messaging/outbox.ts";
import type { ChangedAccount } from "./balance-events.ts";

export type ChargeOutcome = "duplicate" | PaymentProcessed["status"];

/**
 * Charges an order exactly once, inside the caller's transaction, in two statements sent together
 * (the connection pipelines them, and the statements of the records after this one):
 * 1. the inbox row (a redelivered event stops here) and the order's payment row, as yet undecided
 *    (a second event for the same order stops here); a concurrent copy blocks on either key until
 *    this one ends;
 * 2. for a payment this transaction claimed (still undecided), the conditional debit that can never
 *    take the balance below zero, its ledger entry and the payment's outcome.
 * Then the payments.processed event goes to the outbox, with the balance the charge left: the one
 * event of a charge. Its balance is not told again on payments.balance-updated, whose only reader
 * (the orders side, for the page) keeps it from payments.processed: that would be a record more
 * to publish and a consumer's invocation and transaction more per order, for nothing.
 */
export function chargeOrder(event: OrderCreated): Pipelined<ChargeOutcome> {
  return pipelined([claimPayment(event), debit(event)], (tx, [claimed, debited]) => {
    const log = forOrder(event.order_id, { event_id: event.event_id, user_id: event.user_id });
    const row = debited.rows[0];
    if (claimed.rowCount !== 1 || !row) {
      log.info("order already charged; event ignored");
      return "duplicate";
    }
    const { reason } = row;
    const status = reason === null ? "FINISHED" : "CANCELLED";
    const changed = reason === null ? { user_id: row.user_id, balance: row.balance, version: row.version } : undefined;
    emit(
      tx,
      "payments.processed",
      {
        order_id: event.order_id,
        user_id: event.user_id,
        amount: event.amount,
        status,
        reason,
        ...(changed && { balance: { balance: changed.balance, version: changed.version } }),
      },
      event.order_id,
    );
    log.info({ status, reason }, "payment processed");
    return status;
  });
}

/**
 * Claims the payment: a row CANCELLED with no reason yet, which only this transaction can see
 * undecided. It has been claimed when the answer's row count is 1.
 */
function claimPayment(event: OrderCreated): Query {
  return sql(
    `WITH received AS (
       INSERT INTO inbox (event_id, topic) VALUES ($1, 'orders.created') ON CONFLICT (event_id) DO NOTHING RETURNING event_id
     )
     INSERT INTO payments (order_id, user_id, amount, status)
     SELECT $2, $3, $4, 'CANCELLED' FROM received
     ON CONFLICT (order_id) DO NOTHING`,
    [event.event_id, event.order_id, event.user_id, event.amount],
  );
}

/**
 * Decides a claimed payment: takes the order's amount from the account, writes the ledger entry and
 * records the outcome on the payment row. Its answer is a row saying why not (reason) or, with no
 * reason, the account the debit changed; no row when there was nothing to decide (the payment was
 * decided before: a duplicate). The WHERE clause is the whole guard: concurrent charges serialise
 * on the account's row lock and each re-checks the balance it finds, so the balance can never go
 * negative.
 */
function debit(event: OrderCreated): Query<ChangedAccount & { reason: PaymentFailureReason | null }> {
  return sql(
    `WITH claimed AS (
       SELECT order_id FROM payments WHERE order_id = $3 AND status = 'CANCELLED' AND reason IS NULL
     ), debited AS (
       UPDATE accounts SET balance = balance - $2, version = version + 1, updated_at = now()
        WHERE user_id = $1 AND balance >= $2 AND $2 > 0 AND EXISTS (SELECT 1 FROM claimed)
        RETURNING user_id, balance, version
     ), entry AS (
       INSERT INTO ledger (user_id, kind, amount, order_id) SELECT user_id, 'CHARGE', -$2::bigint, $3 FROM debited
     ), outcome AS (
       SELECT CASE WHEN EXISTS (SELECT 1 FROM debited) THEN NULL
                   WHEN $2 <= 0 THEN 'invalid_amount'
                   WHEN EXISTS (SELECT 1 FROM accounts WHERE user_id = $1) THEN 'insufficient_funds'
                   ELSE 'account_not_found' END AS reason
         FROM claimed
     ), recorded AS (
       UPDATE payments SET status = CASE WHEN outcome.reason IS NULL THEN 'FINISHED' ELSE 'CANCELLED' END, reason = outcome.reason
         FROM outcome WHERE order_id = $3
     )
     SELECT outcome.reason, debited.user_id, debited.balance, debited.version FROM outcome LEFT JOIN debited ON true`,
    [event.user_id, event.amount, event.order_id],
  );
}
