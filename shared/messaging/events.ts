import { randomUUID } from "node:crypto";
import { z } from "zod";

/**
 * One versioned schema per topic. Producers build events with these helpers; every consumer
 * validates what it reads against the same schema before acting on it.
 */
export const TOPICS = {
  ordersCreated: "orders.created",
  paymentsProcessed: "payments.processed",
  balanceUpdated: "payments.balance-updated",
} as const;

/** Records a consumer cannot read at all are parked here, next to their source topic. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlt`;

const uuid = z.uuid();
const envelope = {
  event_id: uuid,
  event_version: z.literal(1),
  occurred_at: z.iso.datetime({ offset: true }),
  /** The order id: the thread that ties every log line and event of one order together. */
  correlation_id: uuid,
};

export const orderCreatedV1 = z.object({
  ...envelope,
  event_type: z.literal("OrderCreated"),
  order_id: uuid,
  user_id: uuid,
  amount: z.number().int(),
  description: z.string(),
});
export type OrderCreated = z.infer<typeof orderCreatedV1>;

export const PAYMENT_FAILURE_REASONS = ["insufficient_funds", "account_not_found", "invalid_amount"] as const;
export type PaymentFailureReason = (typeof PAYMENT_FAILURE_REASONS)[number];

export const paymentProcessedV1 = z.object({
  ...envelope,
  event_type: z.literal("PaymentProcessed"),
  order_id: uuid,
  user_id: uuid,
  amount: z.number().int(),
  status: z.enum(["FINISHED", "CANCELLED"]),
  reason: z.enum(PAYMENT_FAILURE_REASONS).nullable(),
});
export type PaymentProcessed = z.infer<typeof paymentProcessedV1>;

export const balanceUpdatedV1 = z.object({
  ...envelope,
  event_type: z.literal("BalanceUpdated"),
  user_id: uuid,
  balance: z.number().int(),
  /** Grows with every change of this account: a reader keeps the highest it has seen. */
  version: z.number().int(),
  cause: z.enum(["opened", "deposit", "charge"]),
});
export type BalanceUpdated = z.infer<typeof balanceUpdatedV1>;

function envelopeFor(orderId: string) {
  return {
    event_id: randomUUID(),
    event_version: 1 as const,
    occurred_at: new Date().toISOString(),
    correlation_id: orderId,
  };
}

export function orderCreated(fields: Omit<OrderCreated, keyof typeof envelope | "event_type">): OrderCreated {
  return { ...envelopeFor(fields.order_id), event_type: "OrderCreated", ...fields };
}

/** For a charge the correlation id is the order's; a deposit starts its own thread. */
export function balanceUpdated(fields: Omit<BalanceUpdated, keyof typeof envelope | "event_type">, orderId?: string): BalanceUpdated {
  const base = envelopeFor(orderId ?? randomUUID());
  return { ...base, correlation_id: orderId ?? base.event_id, event_type: "BalanceUpdated", ...fields };
}

export function paymentProcessed(fields: Omit<PaymentProcessed, keyof typeof envelope | "event_type">): PaymentProcessed {
  return { ...envelopeFor(fields.order_id), event_type: "PaymentProcessed", ...fields };
}
