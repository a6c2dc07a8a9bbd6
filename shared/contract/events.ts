import { z } from "zod";
import { ORDER_STATUSES, PAYMENT_FAILURE_REASONS, printableText, MAX_DESCRIPTION_LENGTH } from "./order.ts";

/**
 * The Kafka topics, each with one versioned event schema and the field that keys it. Producers
 * write through `emit` (shared/messaging/outbox.ts), which takes its schema and key from this table;
 * every consumer validates what it reads against the same schema.
 */
const uuid = z.uuid();
const envelope = {
  event_id: uuid,
  event_version: z.literal(1),
  occurred_at: z.iso.datetime({ offset: true }),
  /** The order id (or, for a deposit, an id of its own): the thread through every log line and event. */
  correlation_id: uuid,
};
/** Amounts as PostgreSQL's BIGINT and JSON can both carry them exactly. */
const money = z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

export const orderCreatedV1 = z.object({
  ...envelope,
  event_type: z.literal("OrderCreated"),
  order_id: uuid,
  user_id: uuid,
  amount: money,
  description: printableText(MAX_DESCRIPTION_LENGTH),
});

export const paymentProcessedV1 = z.object({
  ...envelope,
  event_type: z.literal("PaymentProcessed"),
  order_id: uuid,
  user_id: uuid,
  amount: money,
  status: z.enum(ORDER_STATUSES).exclude(["NEW"]),
  reason: z.enum(PAYMENT_FAILURE_REASONS).nullable(),
  /**
   * The payer's account right after the charge, when money was taken: the order's WebSocket frame
   * carries it, so a page hears of the order and its balance in one message. Absent in events
   * written before it existed.
   */
  balance: z.object({ balance: money, version: money }).optional(),
});

export const balanceUpdatedV1 = z.object({
  ...envelope,
  event_type: z.literal("BalanceUpdated"),
  user_id: uuid,
  balance: money,
  /** Grows with every change of this account: a reader keeps the highest it has seen. */
  version: money,
  /** A charge's balance is told on payments.processed; "charge" is read in records written before that. */
  cause: z.enum(["opened", "deposit", "charge"]),
});

export const TOPICS = {
  "orders.created": { schema: orderCreatedV1, key: "user_id" },
  "payments.processed": { schema: paymentProcessedV1, key: "user_id" },
  "payments.balance-updated": { schema: balanceUpdatedV1, key: "user_id" },
} as const;

export type Topic = keyof typeof TOPICS;
export type EventOf<T extends Topic> = z.infer<(typeof TOPICS)[T]["schema"]>;
/** What a producer supplies: the event without its envelope, which `emit` adds. */
export type FieldsOf<T extends Topic> = Omit<EventOf<T>, keyof typeof envelope | "event_type">;

export type OrderCreated = EventOf<"orders.created">;
export type PaymentProcessed = EventOf<"payments.processed">;
export type BalanceUpdated = EventOf<"payments.balance-updated">;

/** Where a record that cannot be handled is parked, next to its source topic. */
export const deadLetterTopic = (topic: string): string => `${topic}.dlt`;

/** Every topic the shop needs, dead-letter topics included. */
export const ALL_TOPICS = (Object.keys(TOPICS) as Topic[]).flatMap((topic) => [topic, deadLetterTopic(topic)]);
