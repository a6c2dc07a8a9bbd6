import { ordersDb } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { forOrder } from "../logger.ts";
import { TOPICS, type PaymentProcessed } from "../messaging/events.ts";
import { recordInInbox } from "../messaging/inbox.ts";
import { notifyOrderSettled } from "../notifications/notify.ts";
import { ORDER_COLUMNS, type Order } from "./orders.ts";

export type SettleOutcome = "settled" | "duplicate" | "ignored";

/**
 * Moves an order from NEW to the payment's final status, once. The inbox row and the guarded
 * update commit together; a duplicate event or one for an order already final changes nothing.
 * The user's open sockets hear about it after the commit.
 */
export async function settleOrder(event: PaymentProcessed): Promise<SettleOutcome> {
  const log = forOrder(event.order_id, { event_id: event.event_id });
  const settled = await withTransaction(ordersDb(), async (tx) => {
    if (!(await recordInInbox(tx, event.event_id, TOPICS.paymentsProcessed))) return "duplicate" as const;
    const updated = await tx.query<Order>(
      `UPDATE orders SET status = $2, reason = $3, updated_at = now()
        WHERE id = $1 AND status = 'NEW' RETURNING ${ORDER_COLUMNS}`,
      [event.order_id, event.status, event.reason],
    );
    return updated.rows[0] ?? ("ignored" as const);
  });
  if (settled === "duplicate") {
    log.info("duplicate payment result ignored");
    return settled;
  }
  if (settled === "ignored") {
    log.warn({ status: event.status }, "payment result for an unknown or already final order ignored");
    return settled;
  }
  log.info({ status: settled.status, reason: settled.reason }, "order settled");
  await notifyOrderSettled(settled);
  return "settled";
}
