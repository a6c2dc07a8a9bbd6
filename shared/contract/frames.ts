import { z } from "zod";
import { order, ORDER_STATUSES, PAYMENT_FAILURE_REASONS, type Order } from "./order.ts";

/** Every frame the WebSocket API sends, typed once: the page, the tests and the docs read these. */
export const orderUpdatedFrame = z.object({
  type: z.literal("ORDER_UPDATED"),
  order_id: z.uuid(),
  status: z.enum(ORDER_STATUSES),
  reason: z.enum(PAYMENT_FAILURE_REASONS).nullable(),
  amount: z.number().int(),
  description: z.string(),
  updated_at: z.iso.datetime(),
});

export const balanceUpdatedFrame = z.object({
  type: z.literal("BALANCE_UPDATED"),
  user_id: z.uuid(),
  balance: z.number().int(),
});

export const snapshotFrame = z.object({
  type: z.literal("SNAPSHOT"),
  user_id: z.uuid(),
  orders: z.array(order),
  /** null until a balance of this user has been announced. */
  balance: z.number().int().nullable(),
});

export const frame = z.discriminatedUnion("type", [orderUpdatedFrame, balanceUpdatedFrame, snapshotFrame]);
export type Frame = z.infer<typeof frame>;
export type OrderUpdatedFrame = z.infer<typeof orderUpdatedFrame>;

/** The frame that tells a page an order changed. */
export function orderUpdated(changed: Order): OrderUpdatedFrame {
  return {
    type: "ORDER_UPDATED",
    order_id: changed.id,
    status: changed.status,
    reason: changed.reason,
    amount: changed.amount,
    description: changed.description,
    updated_at: changed.updated_at,
  };
}
