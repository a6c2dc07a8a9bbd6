/**
 * Every setting the functions read, in one typed place. Defaults serve a local run; serverless.yml
 * and the start command provide the real values.
 */
export interface Config {
  ordersDatabaseUrl: string;
  paymentsDatabaseUrl: string;
  /** Comma-separated host:port list; empty means "discover through the MSK control plane". */
  kafkaBrokers: string[];
  mskClusterArn: string | undefined;
  awsRegion: string;
  /** serverless-offline's Lambda endpoint locally; undefined on AWS (the SDK's default applies). */
  lambdaEndpoint: string | undefined;
  ordersRelayFunction: string;
  paymentsRelayFunction: string;
  /** The API Gateway management endpoint for WebSocket pushes (G8: the event's domainName is wrong offline). */
  websocketEndpoint: string;
  outboxRetentionHours: number;
  logLevel: string;
}

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    ordersDatabaseUrl: env.ORDERS_DATABASE_URL ?? "postgres://postgres@127.0.0.1:55432/orders",
    paymentsDatabaseUrl: env.PAYMENTS_DATABASE_URL ?? "postgres://postgres@127.0.0.1:55433/payments",
    kafkaBrokers: list(env.KAFKA_BROKERS ?? (env.MSK_CLUSTER_ARN ? "" : "127.0.0.1:9092")),
    mskClusterArn: env.MSK_CLUSTER_ARN || undefined,
    awsRegion: env.AWS_REGION ?? "us-east-1",
    lambdaEndpoint: env.LAMBDA_ENDPOINT || undefined,
    ordersRelayFunction: env.ORDERS_RELAY_FUNCTION ?? "gozon-shop-dev-ordersOutboxRelay",
    paymentsRelayFunction: env.PAYMENTS_RELAY_FUNCTION ?? "gozon-shop-dev-paymentsOutboxRelay",
    websocketEndpoint: env.WEBSOCKET_ENDPOINT ?? "http://localhost:3001",
    outboxRetentionHours: positiveNumber("OUTBOX_RETENTION_HOURS", 72),
    logLevel: env.LOG_LEVEL ?? "info",
  };
}

let cached: Config | undefined;

/** The configuration of this process, read once (a Lambda container keeps it across invocations). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
