import type { Topic } from "./events.ts";

/** The two databases, each with its own outbox and relay. */
export type Database = "orders" | "payments";

export interface HttpRoute {
  method: "GET" | "POST";
  path: string;
}

/** A WebSocket API route; `authorizer` names the function that admits the connection ($connect only). */
export interface WebsocketRoute {
  route: string;
  authorizer?: { function: string; identitySource: readonly string[] };
}

/** What runs a function: exactly one kind of trigger. */
export type Trigger =
  | { http: readonly HttpRoute[] }
  /** Lambda's Kafka event source mapping: the topic, read as this consumer group. */
  | { topic: Topic; group: string }
  /** An EventBridge schedule: `rate(1 minute)`, `cron(…)`. */
  | { schedule: string }
  | { websocket: readonly WebsocketRoute[] }
  /** API Gateway calls it to admit a WebSocket connection (the route names it as its authorizer). */
  | { authorizes: "websocket" };

export interface FunctionSpec {
  /** `<file without .ts>.<export>`, as serverless.yml's `handler`. */
  handler: string;
  /** What it does, in a few words: the AsyncAPI document says it of consumers. */
  does: string;
  trigger: Trigger;
  /** The databases it connects to: their URL and password secret are its environment, its role reads that secret. */
  databases: readonly Database[];
  /** The topics its transactions write to its database's outbox (its database's relay publishes them). */
  writes?: readonly Topic[];
  /** It publishes its database's outbox (the relay of `databases[0]`). */
  relaysOutbox?: boolean;
  /** It posts frames to connections of the WebSocket API. */
  pushesFrames?: boolean;
  /** It connects to the brokers only to see that they answer. */
  probesBrokers?: boolean;
  /** It describes every topic and consumer group, reading no record: the consumer lag and dead letters it samples. */
  samplesOffsets?: boolean;
  /** A fixed reserved concurrency on AWS; the stage's limits share the rest among the others (deploy/limits.ts). */
  reservedConcurrency?: number;
  /** Seconds; the provider's 29 otherwise. */
  timeout?: number;
}

/** A Kafka consumer's entry: what the consumer wrapper (shared/handlers/kafka.ts) takes. */
export interface ConsumerSpec<T extends Topic = Topic> {
  trigger: { topic: T; group: string };
  databases: readonly [Database];
}

const ORDERS = ["orders"] as const;
const PAYMENTS = ["payments"] as const;
/** The outbox relays: woken right after each commit; the schedule is the safety net (and prunes). */
const relay = (database: Database) =>
  ({
    handler: `functions/relay/${database}-outbox-relay.handler`,
    does: `${database}: publishes its outbox`,
    trigger: { schedule: "rate(1 minute)" },
    databases: [database],
    relaysOutbox: true,
    // A relay waits out a broker outage inside its run (holding no transaction), then asks for the next run.
    timeout: 60,
    reservedConcurrency: 2,
  }) as const;

/**
 * Every function of the shop and everything about its wiring, written once. serverless.yml's
 * functions (deploy/functions.ts), the IAM roles (deploy/roles.ts), the reserved concurrency
 * (deploy/limits.ts), the Kafka event source settings, the AsyncAPI document (asyncapi.ts) and each
 * consumer's wrapper options (its handler file passes its entry) are made from it; the topic lists
 * outside TypeScript (docker-compose.yml, localstack/) are checked against it by unit tests.
 */
export const FUNCTIONS = {
  // --- orders ---
  createOrder: {
    handler: "functions/orders/create-order.handler",
    does: "orders: places an order",
    trigger: { http: [{ method: "POST", path: "/api/orders" }] },
    databases: ORDERS,
    writes: ["orders.created"],
  },
  listOrders: {
    handler: "functions/orders/list-orders.handler",
    does: "orders: a page of the caller's orders",
    trigger: { http: [{ method: "GET", path: "/api/orders" }] },
    databases: ORDERS,
  },
  getOrder: {
    handler: "functions/orders/get-order.handler",
    does: "orders: one order",
    trigger: { http: [{ method: "GET", path: "/api/orders/{id}" }] },
    databases: ORDERS,
  },
  onPaymentProcessed: {
    handler: "functions/orders/on-payment-processed.handler",
    does: "orders: settles the order, pushes ORDER_UPDATED",
    trigger: { topic: "payments.processed", group: "gozon-orders-payment-results" },
    databases: ORDERS,
    pushesFrames: true,
  },

  // --- payments ---
  createAccount: {
    handler: "functions/payments/create-account.handler",
    does: "payments: opens an account",
    trigger: { http: [{ method: "POST", path: "/api/payments/create_account" }] },
    databases: PAYMENTS,
    writes: ["payments.balance-updated"],
  },
  deposit: {
    handler: "functions/payments/deposit.handler",
    does: "payments: adds money to an account",
    trigger: { http: [{ method: "POST", path: "/api/payments/deposit" }] },
    databases: PAYMENTS,
    writes: ["payments.balance-updated"],
  },
  getBalance: {
    handler: "functions/payments/get-balance.handler",
    does: "payments: an account's balance",
    trigger: { http: [{ method: "GET", path: "/api/payments/balance" }] },
    databases: PAYMENTS,
  },
  onOrderCreated: {
    handler: "functions/payments/on-order-created.handler",
    does: "payments: charges the order",
    trigger: { topic: "orders.created", group: "gozon-payments-charges" },
    databases: PAYMENTS,
    writes: ["payments.processed"],
  },

  // --- outbox relays ---
  ordersOutboxRelay: relay("orders"),
  paymentsOutboxRelay: relay("payments"),

  // --- notifications (WebSocket API) ---
  wsAuthorize: {
    handler: "functions/notifications/ws-authorize.handler",
    does: "notifications: checks a connecting page's access token",
    trigger: { authorizes: "websocket" },
    databases: [],
  },
  wsConnect: {
    handler: "functions/notifications/ws-connect.handler",
    does: "notifications: remembers a connection for its user",
    // The access token comes as ?token=…: a browser cannot set headers on a WebSocket.
    trigger: {
      websocket: [
        {
          route: "$connect",
          authorizer: { function: "wsAuthorize", identitySource: ["route.request.querystring.token"] },
        },
      ],
    },
    databases: ORDERS,
  },
  wsDisconnect: {
    handler: "functions/notifications/ws-disconnect.handler",
    does: "notifications: forgets a connection",
    trigger: { websocket: [{ route: "$disconnect" }] },
    databases: ORDERS,
  },
  wsSync: {
    handler: "functions/notifications/ws-sync.handler",
    does: "notifications: answers sync with a SNAPSHOT, any other frame with a PROBLEM",
    trigger: { websocket: [{ route: "sync" }, { route: "$default" }] },
    databases: ORDERS,
    pushesFrames: true,
  },
  onBalanceUpdated: {
    handler: "functions/notifications/on-balance-updated.handler",
    does: "notifications: keeps the latest balance, pushes BALANCE_UPDATED",
    trigger: { topic: "payments.balance-updated", group: "gozon-notifications-balances" },
    databases: ORDERS,
    pushesFrames: true,
  },

  // --- ops ---
  health: {
    handler: "functions/ops/health.handler",
    does: "ops: up or down per component",
    trigger: { http: [{ method: "GET", path: "/api/health" }] },
    databases: ["orders", "payments"],
    probesBrokers: true,
  },
  sampleMetrics: {
    handler: "functions/ops/sample-metrics.handler",
    does: "ops: samples outbox backlog and age, consumer lag and dead letters, as metrics",
    trigger: { schedule: "rate(1 minute)" },
    databases: ["orders", "payments"],
    samplesOffsets: true,
    reservedConcurrency: 1,
    timeout: 20,
  },
  openapi: {
    handler: "functions/ops/openapi.handler",
    does: "ops: the OpenAPI document",
    trigger: { http: [{ method: "GET", path: "/api/openapi.json" }] },
    databases: [],
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionKey = keyof typeof FUNCTIONS;

/** The manifest as plain entries, for code that walks all of it. */
export const functionEntries = (
  functions: Record<string, FunctionSpec> = FUNCTIONS,
): Array<[key: string, spec: FunctionSpec]> => Object.entries(functions);
