import { FUNCTIONS as MANIFEST, type FunctionSpec } from "../../../shared/contract/manifest.ts";

/** Every function of the manifest (shared/contract/manifest.ts), which serverless.yml's are made from. */
export const FUNCTIONS = Object.keys(MANIFEST);
export const specOf = (key: string): FunctionSpec => (MANIFEST as Record<string, FunctionSpec>)[key]!;
export const functionLogicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;

/**
 * What each function may do beyond its logs and its network interfaces, written out here on its own
 * (not read from deploy/roles.ts), so a role that grows or shrinks fails this test.
 */
export const EXPECTED_SIDS: Record<string, string[]> = {
  createOrder: ["ReadDatabasePassword", "WakeOutboxRelay"],
  listOrders: ["ReadDatabasePassword"],
  getOrder: ["ReadDatabasePassword"],
  onPaymentProcessed: [
    "ReadDatabasePassword",
    "WakeOutboxRelay",
    "PushToThisApiConnections",
    "MskControlPlane",
    "ConnectToCluster",
    "ReadSourceTopic",
    "CommitAsConsumerGroup",
    "WriteOnFailureTopic",
  ],
  createAccount: ["ReadDatabasePassword", "DecryptDatabasePassword", "WakeOutboxRelay"],
  deposit: ["ReadDatabasePassword", "DecryptDatabasePassword", "WakeOutboxRelay"],
  getBalance: ["ReadDatabasePassword", "DecryptDatabasePassword"],
  onOrderCreated: [
    "ReadDatabasePassword",
    "DecryptDatabasePassword",
    "WakeOutboxRelay",
    "MskControlPlane",
    "ConnectToCluster",
    "ReadSourceTopic",
    "CommitAsConsumerGroup",
    "WriteOnFailureTopic",
  ],
  ordersOutboxRelay: [
    "ReadDatabasePassword",
    "WakeOutboxRelay",
    "MskControlPlane",
    "ConnectToCluster",
    "PublishOutboxTopics",
  ],
  paymentsOutboxRelay: [
    "ReadDatabasePassword",
    "DecryptDatabasePassword",
    "WakeOutboxRelay",
    "MskControlPlane",
    "ConnectToCluster",
    "PublishOutboxTopics",
  ],
  wsAuthorize: [],
  wsConnect: ["ReadDatabasePassword"],
  wsDisconnect: ["ReadDatabasePassword"],
  wsSync: ["ReadDatabasePassword", "PushToThisApiConnections"],
  onBalanceUpdated: [
    "ReadDatabasePassword",
    "WakeOutboxRelay",
    "PushToThisApiConnections",
    "MskControlPlane",
    "ConnectToCluster",
    "ReadSourceTopic",
    "CommitAsConsumerGroup",
    "WriteOnFailureTopic",
  ],
  health: ["ReadDatabasePassword", "DecryptDatabasePassword", "MskControlPlane", "ConnectToCluster"],
  sampleMetrics: [
    "ReadDatabasePassword",
    "DecryptDatabasePassword",
    "MskControlPlane",
    "ConnectToCluster",
    "DescribeTopicsAndGroups",
  ],
  openapi: [],
};
export const WAKES: Record<string, string[]> = {
  createOrder: ["ordersOutboxRelay"],
  onPaymentProcessed: ["ordersOutboxRelay"],
  onBalanceUpdated: ["ordersOutboxRelay"],
  ordersOutboxRelay: ["ordersOutboxRelay"],
  createAccount: ["paymentsOutboxRelay"],
  deposit: ["paymentsOutboxRelay"],
  onOrderCreated: ["paymentsOutboxRelay"],
  paymentsOutboxRelay: ["paymentsOutboxRelay"],
};
export const DATABASES: Record<string, Array<"ORDERS_DATABASE_URL" | "PAYMENTS_DATABASE_URL">> = {
  createOrder: ["ORDERS_DATABASE_URL"],
  listOrders: ["ORDERS_DATABASE_URL"],
  getOrder: ["ORDERS_DATABASE_URL"],
  onPaymentProcessed: ["ORDERS_DATABASE_URL"],
  ordersOutboxRelay: ["ORDERS_DATABASE_URL"],
  wsConnect: ["ORDERS_DATABASE_URL"],
  wsDisconnect: ["ORDERS_DATABASE_URL"],
  wsSync: ["ORDERS_DATABASE_URL"],
  onBalanceUpdated: ["ORDERS_DATABASE_URL"],
  createAccount: ["PAYMENTS_DATABASE_URL"],
  deposit: ["PAYMENTS_DATABASE_URL"],
  getBalance: ["PAYMENTS_DATABASE_URL"],
  onOrderCreated: ["PAYMENTS_DATABASE_URL"],
  paymentsOutboxRelay: ["PAYMENTS_DATABASE_URL"],
  health: ["ORDERS_DATABASE_URL", "PAYMENTS_DATABASE_URL"],
  sampleMetrics: ["ORDERS_DATABASE_URL", "PAYMENTS_DATABASE_URL"],
  openapi: [],
  wsAuthorize: [],
};

/**
 * A function the tables above do not name (one added since they were written) is held to what its
 * kind of function gets, also written out here: a database's secret (and the payments key), waking
 * its database's relay when it writes an outbox, pushing frames, and a consumer's Kafka access.
 */
export const CONSUMER_SIDS = [
  "MskControlPlane",
  "ConnectToCluster",
  "ReadSourceTopic",
  "CommitAsConsumerGroup",
  "WriteOnFailureTopic",
];
export const URL_OF = { orders: "ORDERS_DATABASE_URL", payments: "PAYMENTS_DATABASE_URL" } as const;
export const databasesOf = (key: string) => DATABASES[key] ?? specOf(key).databases.map((d) => URL_OF[d]);
export const wakesOf = (key: string): string[] | undefined => {
  if (key in EXPECTED_SIDS) return WAKES[key];
  const spec = specOf(key);
  return "topic" in spec.trigger || spec.writes?.length ? [`${spec.databases[0]}OutboxRelay`] : undefined;
};
export const expectedSidsOf = (key: string): string[] => {
  if (EXPECTED_SIDS[key]) return EXPECTED_SIDS[key];
  const spec = specOf(key);
  return [
    ...(spec.databases.length ? ["ReadDatabasePassword"] : []),
    ...(spec.databases.includes("payments") ? ["DecryptDatabasePassword"] : []),
    ...(wakesOf(key) ? ["WakeOutboxRelay"] : []),
    ...(spec.pushesFrames ? ["PushToThisApiConnections"] : []),
    ...("topic" in spec.trigger ? CONSUMER_SIDS : []),
  ];
};
