import type { Topic } from "./events.ts";

/** The two databases, each with its own outbox and relay. */
export type Database = "orders" | "payments";

/** A topic's consumer: its function (serverless.yml's key), its consumer group, and what it does. */
export interface Consumer {
  function: string;
  group: string;
  does: string;
}

/**
 * The shop's wiring that serverless.yml does not say, written once. serverless.yml holds each
 * function's routes, database (its environment) and event source, and reads each consumer group
 * from here (deploy/topology.cjs); the IAM roles (deploy/roles.ts) and the AsyncAPI document
 * (asyncapi.ts) derive what each function may do and who writes and reads what from the two.
 * - `writtenBy`: the functions whose transactions write the topic to their database's outbox (its
 *   relay publishes it);
 * - `consumer`: the function that reads it, as which consumer group.
 */
export const TOPOLOGY: Record<Topic, { writtenBy: string[]; consumer: Consumer }> = {
  "orders.created": {
    writtenBy: ["createOrder"],
    consumer: { function: "onOrderCreated", group: "gozon-payments-charges", does: "payments: charges the order" },
  },
  "payments.processed": {
    writtenBy: ["onOrderCreated"],
    consumer: {
      function: "onPaymentProcessed",
      group: "gozon-orders-payment-results",
      does: "orders: settles the order, pushes ORDER_UPDATED",
    },
  },
  "payments.balance-updated": {
    writtenBy: ["createAccount", "deposit", "onOrderCreated"],
    consumer: {
      function: "onBalanceUpdated",
      group: "gozon-notifications-balances",
      does: "notifications: keeps the latest balance, pushes BALANCE_UPDATED",
    },
  },
};

/** The functions that post frames to the WebSocket API's connections. */
export const PUSHES_FRAMES: readonly string[] = ["onPaymentProcessed", "onBalanceUpdated", "wsSync"];

/** The functions that read every topic's offsets and every consumer group's commits, to sample their lag. */
export const SAMPLES_OFFSETS: readonly string[] = ["sampleMetrics"];

/** The functions that connect to the brokers only to see that they answer. */
export const PROBES_BROKERS: readonly string[] = ["health"];

/** Each consumer's group, by function: what serverless.yml's msk events read. */
export const consumerGroups = (): Record<string, string> =>
  Object.fromEntries(Object.values(TOPOLOGY).map(({ consumer }) => [consumer.function, consumer.group]));
