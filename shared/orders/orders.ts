import { randomUUID } from "node:crypto";
import { config } from "../config.ts";
import { oncePerIdempotencyKey, type Replayable } from "../db/idempotency.ts";
import { ordersDb } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { NotFound } from "../errors.ts";
import { forOrder } from "../logger.ts";
import { orderCreated, TOPICS } from "../messaging/events.ts";
import { addToOutbox } from "../messaging/outbox.ts";
import { requestRelay } from "../messaging/relay-trigger.ts";

export const ORDER_STATUSES = ["NEW", "FINISHED", "CANCELLED"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface Order {
  id: string;
  user_id: string;
  amount: number;
  description: string;
  status: OrderStatus;
  reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface NewOrder {
  userId: string;
  amount: number;
  description: string;
}

export const ORDER_COLUMNS = `id, user_id, amount, description, status, reason,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
  to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at`;

/**
 * Creates an order (status NEW) and its orders.created event in one transaction, then asks the
 * relay to publish right away. Payment happens asynchronously.
 */
export async function placeOrder(input: NewOrder, idempotencyKey?: string): Promise<Replayable<Order>> {
  const outcome = await withTransaction(ordersDb(), (tx) =>
    oncePerIdempotencyKey(tx, "orders.create", idempotencyKey, input, async () => {
      const inserted = await tx.query<Order>(
        `INSERT INTO orders (id, user_id, amount, description) VALUES ($1, $2, $3, $4) RETURNING ${ORDER_COLUMNS}`,
        [randomUUID(), input.userId, input.amount, input.description],
      );
      const order = inserted.rows[0]!;
      const event = orderCreated({ order_id: order.id, user_id: order.user_id, amount: order.amount, description: order.description });
      await addToOutbox(tx, { eventId: event.event_id, topic: TOPICS.ordersCreated, key: order.user_id, payload: event });
      return order;
    }),
  );
  if (!outcome.replayed) {
    forOrder(outcome.result.id).info({ user_id: input.userId, amount: input.amount }, "order placed");
    await requestRelay(config().ordersRelayFunction);
  }
  return outcome;
}

export async function findOrder(orderId: string): Promise<Order> {
  const result = await ordersDb().query<Order>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1`, [orderId]);
  const order = result.rows[0];
  if (!order) throw new NotFound(`No order with id ${orderId}`, "id");
  return order;
}

/** A user's orders, newest first. */
export async function listOrders(userId: string): Promise<Order[]> {
  const result = await ordersDb().query<Order>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT 500`,
    [userId],
  );
  return result.rows;
}
