import { z } from "zod";
import { problem } from "./http.ts";
import { order, ORDER_STATUSES, PAYMENT_FAILURE_REASONS, type Order } from "./order.ts";

/** The only frame a client sends is {"action":"sync"}; a larger one is refused with a 413 PROBLEM frame. */
export const MAX_INCOMING_FRAME_BYTES = 1024;

/**
 * A SNAPSHOT holds a user's newest orders, this many at most; older ones are paged over HTTP from
 * its `next_cursor`. An order is at most about 1.8 KB of JSON (500 characters of 3-byte UTF-8 plus
 * its fields), so a snapshot stays far under API Gateway's 128 KB message limit however many
 * orders the user has.
 */
export const SNAPSHOT_ORDERS = 50;

/** Every frame the WebSocket API sends, typed once: the page, the tests and the docs read these. */
export const orderUpdatedFrame = z.object({
  type: z.literal("ORDER_UPDATED"),
  order_id: z.uuid(),
  status: z.enum(ORDER_STATUSES),
  reason: z.enum(PAYMENT_FAILURE_REASONS).nullable(),
  amount: z.number().int(),
  description: z.string(),
  updated_at: z.iso.datetime(),
  balance: z
    .number()
    .int()
    .optional()
    .describe("The user's balance right after this order was paid, when money was taken: one message per order"),
  balance_version: z
    .number()
    .int()
    .optional()
    .describe("That balance's version: a page keeps the balance of the highest version it has seen"),
});

export const balanceUpdatedFrame = z.object({
  type: z.literal("BALANCE_UPDATED"),
  user_id: z.uuid(),
  balance: z.number().int(),
  version: z
    .number()
    .int()
    .describe("Grows with every change of the account: frames can arrive out of order, and the highest wins"),
});

export const snapshotFrame = z.object({
  type: z.literal("SNAPSHOT"),
  user_id: z.uuid(),
  orders: z.array(order),
  /** null until a balance of this user has been announced. */
  balance: z.number().int().nullable(),
  /** Older orders than these: GET /api/orders?cursor=<next_cursor>; null when these are all. */
  next_cursor: z.string().nullable(),
});

/** What went wrong with a frame the client sent, as the HTTP API's problem details say it. */
export const problemFrame = problem.omit({ type: true }).extend({ type: z.literal("PROBLEM") });

export const frame = z.discriminatedUnion("type", [
  orderUpdatedFrame,
  balanceUpdatedFrame,
  snapshotFrame,
  problemFrame,
]);
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

/**
 * One change's frames as the user gets them: a balance that moved with an order rides on that
 * order's frame (the newest, if several), so each order costs one WebSocket message.
 */
export function coalesceFrames(frames: Frame[]): Frame[] {
  const balances = frames.filter((f) => f.type === "BALANCE_UPDATED");
  const order = frames.findLast((f) => f.type === "ORDER_UPDATED");
  if (!order || balances.length === 0) return frames;
  const newest = balances.reduce((a, b) => (b.version > a.version ? b : a));
  return frames
    .filter((f) => f.type !== "BALANCE_UPDATED")
    .map((f) => (f === order ? { ...order, balance: newest.balance, balance_version: newest.version } : f));
}
