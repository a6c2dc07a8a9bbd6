import type { Tx } from "../db/transaction.ts";
import { forOrder } from "../logger.ts";
import { TOPICS, type PaymentProcessed } from "../messaging/events.ts";
import { recordInInbox } from "../messaging/inbox.ts";
import type { AfterCommit } from "../messaging/consume.ts";
import { notifyOrderSettled } from "../notifications/notify.ts";
import { ORDER_COLUMNS, type Order } from "./orders.ts";

/**
 * Moves an order from NEW to the payment's final status, once, inside the caller's transaction
 * (with the inbox row). A duplicate event, or one for an order already final, changes nothing.
 * The user's open sockets hear about it after the commit.
 */
export async function settleOrder(tx: Tx, event: PaymentProcessed): Promise<AfterCommit | undefined> {
  const log = forOrder(event.order_id, { event_id: event.event_id });
  if (!(await recordInInbox(tx, event.event_id, TOPICS.paymentsProcessed))) {
    log.info("duplicate payment result ignored");
    return undefined;
  }
  const updated = await tx.query<Order>(
    `UPDATE orders SET status = $2, reason = $3, updated_at = now()
      WHERE id = $1 AND status = 'NEW' RETURNING ${ORDER_COLUMNS}`,
    [event.order_id, event.status, event.reason],
  );
  const order = updated.rows[0];
  if (!order) {
    log.warn({ status: event.status }, "payment result for an unknown or already final order ignored");
    return undefined;
  }
  log.info({ status: order.status, reason: order.reason }, "order settled");
  return () => notifyOrderSettled(order);
}
