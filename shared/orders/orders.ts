import { randomUUID } from "node:crypto";
import { config } from "../config.ts";
import { orderUpdated } from "../contract/frames.ts";
import type { OrderPosition } from "../contract/http.ts";
import type { Order } from "../contract/order.ts";
import type { PaymentProcessed } from "../contract/events.ts";
import { oncePerIdempotencyKey, type Replayable } from "../db/idempotency.ts";
import { db } from "../db/pool.ts";
import { pipelined, sql, type Pipelined } from "../db/pipelined.ts";
import { withTransaction } from "../db/transaction.ts";
import { afterCommit } from "../effects/unit-of-work.ts";
import { NotFound } from "../errors.ts";
import { forOrder } from "../logger.ts";
import { emit } from "../messaging/outbox.ts";

export interface NewOrder {
  userId: string;
  amount: number;
  description: string;
}

const ORDER_COLUMNS = `id, user_id, amount, description, status, reason,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at`;

/**
 * Creates an order (status NEW) and its orders.created event in one transaction. Payment happens
 * asynchronously, once the relay has published the event.
 */
export async function placeOrder(input: NewOrder, idempotencyKey?: string): Promise<Replayable<Order>> {
  const committed = await withTransaction("orders", (tx) =>
    // Keys are the user's own: another user's same key is another key.
    oncePerIdempotencyKey(
      tx,
      `orders.create/${input.userId}`,
      idempotencyKey,
      input,
      config().retention.idempotencyKeyHours,
      async () => {
        const inserted = await tx.query<Order>(
          `INSERT INTO orders (id, user_id, amount, description) VALUES ($1, $2, $3, $4) RETURNING ${ORDER_COLUMNS}`,
          [randomUUID(), input.userId, input.amount, input.description],
        );
        const order = inserted.rows[0]!;
        emit(
          tx,
          "orders.created",
          { order_id: order.id, user_id: order.user_id, amount: order.amount, description: order.description },
          order.id,
        );
        afterCommit(tx, { kind: "count", metric: "OrdersAccepted" });
        return order;
      },
    ),
  );
  if (!committed.replayed)
    forOrder(committed.result.id, { user_id: input.userId }).info({ amount: input.amount }, "order placed");
  return committed;
}

/**
 * Moves an order from NEW to the payment's final status, once, inside the caller's transaction
 * (with the inbox row). A duplicate event, or one for an order already final, changes nothing.
 * The user's open sockets hear about it after the commit.
 */
export function settleOrder(event: PaymentProcessed): Pipelined {
  // One statement: the inbox row, then the order's move if the event is new to the inbox.
  const settle = sql<{ received: boolean } & Partial<Order>>(
    `WITH received AS (
       INSERT INTO inbox (event_id, topic) VALUES ($4, 'payments.processed') ON CONFLICT (event_id) DO NOTHING RETURNING event_id
     ), updated AS (
       UPDATE orders SET status = $2, reason = $3, updated_at = now()
        WHERE id = $1 AND status = 'NEW' AND EXISTS (SELECT 1 FROM received) RETURNING ${ORDER_COLUMNS}
     )
     SELECT EXISTS (SELECT 1 FROM received) AS received, updated.* FROM (SELECT) AS one LEFT JOIN updated ON true`,
    [event.order_id, event.status, event.reason, event.event_id],
  );
  return pipelined([settle], (tx, [settled]) => {
    const log = forOrder(event.order_id, { event_id: event.event_id });
    const { received, ...row } = settled.rows[0]!;
    if (!received) {
      log.info("duplicate payment result ignored");
      return;
    }
    if (!row.id) {
      log.warn({ status: event.status }, "payment result for an unknown or already final order ignored");
      return;
    }
    const order = row as Order;
    log.info({ status: order.status, reason: order.reason }, "order settled");
    afterCommit(tx, { kind: "push", userId: order.user_id, frames: [orderUpdated(order)], correlationId: order.id });
    afterCommit(tx, { kind: "count", metric: order.status === "FINISHED" ? "OrdersFinished" : "OrdersCancelled" });
  });
}

/** One order; with `ownerId`, only if it is that user's (anyone else's is as good as missing). */
export async function findOrder(orderId: string, ownerId?: string): Promise<Order> {
  const result = await db("orders").query<Order>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 AND ($2::uuid IS NULL OR user_id = $2::uuid)`,
    [orderId, ownerId ?? null],
  );
  const order = result.rows[0];
  if (!order) throw new NotFound(`No order with id ${orderId}`, "id");
  return order;
}

export interface OrderPage {
  orders: Order[];
  /** Where the next page starts; null on the last page. */
  next: OrderPosition | null;
}

/** A page of a user's orders, newest first, after `after` (the previous page's `next`). */
export async function listOrders(userId: string, page: { limit: number; after?: OrderPosition }): Promise<OrderPage> {
  const result = await db("orders").query<Order & { position: string }>(
    `SELECT ${ORDER_COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
       FROM orders
      WHERE user_id = $1 AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY created_at DESC, id DESC
      LIMIT $2`,
    [userId, page.limit + 1, page.after?.createdAt ?? null, page.after?.id ?? null],
  );
  const rows = result.rows.slice(0, page.limit);
  const last = rows.at(-1);
  return {
    orders: rows.map(({ position: _position, ...order }) => order),
    next: result.rows.length > page.limit && last ? { createdAt: last.position, id: last.id } : null,
  };
}
