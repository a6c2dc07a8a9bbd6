/**
 * The numbers an operator watches, written once: what each measures, its CloudWatch unit, and
 * whether it counts events (summed per period; a Prometheus counter locally) or samples a level
 * (the last value; a gauge). The functions emit them in CloudWatch's Embedded Metric Format
 * (emit.ts), the prod template's alarms read them (deploy/), and locally the stack serves them
 * at /metrics (local/metrics/).
 */
export const METRICS = {
  OrdersAccepted: { kind: "counter", unit: "Count", help: "orders taken in (201), each once" },
  OrdersFinished: { kind: "counter", unit: "Count", help: "orders paid: moved from NEW to FINISHED" },
  OrdersCancelled: { kind: "counter", unit: "Count", help: "orders refused by payments: moved from NEW to CANCELLED" },
  PushesSent: { kind: "counter", unit: "Count", help: "frames posted to an open WebSocket connection" },
  PushesFailed: {
    kind: "counter",
    unit: "Count",
    help: "frames that could not be posted (the page catches up on reconnect)",
  },
  RequestsShed: {
    kind: "counter",
    unit: "Count",
    help: "requests a function refused with 503 at once, while its database connections held a standing queue",
  },
  RequestsThrottled: {
    kind: "counter",
    unit: "Count",
    help: "requests the front refused with 429 (API Gateway's throttling on AWS, which reports its own)",
  },
  OutboxBacklog: { kind: "gauge", unit: "Count", help: "outbox rows not yet published, per database" },
  OutboxOldestAge: {
    kind: "gauge",
    unit: "Seconds",
    help: "age of the oldest outbox row not yet published, per database",
  },
  ConsumerLag: {
    kind: "gauge",
    unit: "Count",
    help: "records on a topic its consumer group has not committed, per group",
  },
  DeadLetters: { kind: "gauge", unit: "Count", help: "records on a dead-letter topic, per topic" },
} as const;

export type MetricName = keyof typeof METRICS;
export type CounterName = { [N in MetricName]: (typeof METRICS)[N]["kind"] extends "counter" ? N : never }[MetricName];
export type GaugeName = Exclude<MetricName, CounterName>;

/** Every metric of the shop goes to this CloudWatch namespace. */
export const METRICS_NAMESPACE = "GozonShop";

/** The dimension every metric carries: the function that emitted it. */
export const FUNCTION_DIMENSION = "FunctionName";
