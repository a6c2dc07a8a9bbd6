import type { Database } from "./contract/manifest.ts";

/**
 * Every setting the functions read, in one typed place. serverless.yml provides them (locally
 * through the start command, which also hands them to the tests it starts). A default is a value
 * that works; what has none (the databases) fails, naming its variable, when first needed.
 */
/**
 * How the functions' Kafka clients reach the brokers: `none` is plaintext (the local broker), `tls`
 * is TLS without client authentication, `iam` is MSK's IAM access control (SASL OAUTHBEARER over
 * TLS, tokens signed with the function's role).
 */
export const KAFKA_AUTH_MODES = ["none", "tls", "iam"] as const;
export type KafkaAuth = (typeof KAFKA_AUTH_MODES)[number];

/**
 * Who may call: `on` (the default) verifies a Cognito access token on every request and socket and
 * takes the user from it; `off` (AUTH=off) runs the shop open, user ids in requests, as before.
 */
export interface AuthConfig {
  enabled: boolean;
  /** The user pool's issuer URL, the token's `iss`: Cognito's own on AWS, cognito-local's locally. */
  issuer: string | undefined;
  /** The app client whose access tokens are accepted (the token's `client_id`). */
  clientId: string | undefined;
}

export interface Config {
  /** Undefined when not set: the first query says which variable is missing. */
  ordersDatabaseUrl: string | undefined;
  paymentsDatabaseUrl: string | undefined;
  /**
   * The Secrets Manager secret (ARN) holding each database's password, read at run time (an AWS
   * stage: its URL has none); undefined where the URL carries the password (local runs).
   */
  databasePasswordSecrets: Record<Database, string | undefined>;
  /** How long a container uses a password read from Secrets Manager before reading it again. */
  databasePasswordTtlMs: number;
  /** Comma-separated host:port list; empty means "discover through the MSK control plane". */
  kafkaBrokers: string[];
  mskClusterArn: string | undefined;
  /** KAFKA_AUTH; unset, it is `iam` when the brokers are found through MSK and `none` otherwise. */
  kafkaAuth: KafkaAuth;
  awsRegion: string;
  auth: AuthConfig;
  /** serverless-offline's Lambda endpoint locally; undefined on AWS (the SDK's default applies). */
  lambdaEndpoint: string | undefined;
  /** The relay function of each database; undefined where nothing can be invoked (tests). */
  relayFunctions: Record<Database, string | undefined>;
  /** The API Gateway management endpoint for WebSocket pushes (the event's domainName is wrong offline). */
  websocketEndpoint: string;
  dbPoolMax: number;
  dbConnectTimeoutMs: number;
  dbStatementTimeoutMs: number;
  /** Bound on every AWS SDK call (relay wake-ups, pushes, broker discovery, database passwords). */
  awsRequestTimeoutMs: number;
  /** How long a relay that drained its outbox keeps watching it for new rows (see relay.ts). */
  relayLingerMs: number;
  /** Bound on one publish to Kafka, retries included. */
  kafkaSendTimeoutMs: number;
  /** The broker's message.max.bytes: a larger record is set aside instead of sent. */
  kafkaMaxRecordBytes: number;
  /** INVOCATION_REPORT_MS: how often the functions log their invocation totals (0: never; see handlers/invocations.ts). */
  invocationReportMs: number;
  retention: {
    /** Published outbox rows. */
    outboxHours: number;
    /** Inbox rows: longer than the topics keep records (7 days), so no redelivery is ever taken for new. */
    inboxHours: number;
    /** An Idempotency-Key replays its first answer this long, and is forgotten after. */
    idempotencyKeyHours: number;
  };
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function auth(env: NodeJS.ProcessEnv, region: string): AuthConfig {
  const mode = env.AUTH || "on";
  if (mode !== "on" && mode !== "off") throw new Error(`AUTH must be "on" or "off", got "${mode}"`);
  const poolId = env.COGNITO_USER_POOL_ID || undefined;
  return {
    enabled: mode === "on",
    issuer: env.COGNITO_ISSUER || (poolId ? `https://cognito-idp.${region}.amazonaws.com/${poolId}` : undefined),
    clientId: env.COGNITO_CLIENT_ID || undefined,
  };
}

function kafkaAuth(env: NodeJS.ProcessEnv, discovered: boolean): KafkaAuth {
  const raw = env.KAFKA_AUTH;
  if (raw === undefined || raw === "") return discovered ? "iam" : "none";
  if (!(KAFKA_AUTH_MODES as readonly string[]).includes(raw))
    throw new Error(`KAFKA_AUTH must be one of ${KAFKA_AUTH_MODES.join(", ")}, got "${raw}"`);
  return raw as KafkaAuth;
}

/**
 * Where the functions' spans go (OTEL_TRACES_EXPORTER, read by shared/tracing/provider.ts): `otlp`
 * (OTLP/HTTP, OTEL_EXPORTER_OTLP_ENDPOINT and friends) or `none`, the default, also with
 * OTEL_SDK_DISABLED=true. Zipkin's own exporter is deprecated by OpenTelemetry and no longer
 * shipped: a Zipkin takes OTLP through a collector, or locally through the start command's bridge.
 */
export type TracesExporter = "otlp" | "none";

export function tracesExporterOf(env: NodeJS.ProcessEnv): TracesExporter {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return "none";
  const names = (env.OTEL_TRACES_EXPORTER ?? "").split(",").map((name) => name.trim().toLowerCase());
  if (names.includes("zipkin"))
    throw new Error(
      `OTEL_TRACES_EXPORTER=zipkin is no longer supported: use otlp, with OTEL_EXPORTER_OTLP_ENDPOINT at an OTLP/HTTP collector in front of Zipkin (got "${env.OTEL_TRACES_EXPORTER}")`,
    );
  return names.includes("otlp") ? "otlp" : "none";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const kafkaBrokers = list(env.KAFKA_BROKERS ?? (env.MSK_CLUSTER_ARN ? "" : "127.0.0.1:9092"));
  return {
    ordersDatabaseUrl: env.ORDERS_DATABASE_URL || undefined,
    paymentsDatabaseUrl: env.PAYMENTS_DATABASE_URL || undefined,
    databasePasswordSecrets: {
      orders: env.ORDERS_DATABASE_PASSWORD_SECRET_ARN || undefined,
      payments: env.PAYMENTS_DATABASE_PASSWORD_SECRET_ARN || undefined,
    },
    databasePasswordTtlMs: positiveNumber(env, "DB_PASSWORD_TTL_MS", 5 * 60_000),
    kafkaBrokers,
    mskClusterArn: env.MSK_CLUSTER_ARN || undefined,
    kafkaAuth: kafkaAuth(env, kafkaBrokers.length === 0),
    awsRegion: env.AWS_REGION ?? "us-east-1",
    auth: auth(env, env.AWS_REGION ?? "us-east-1"),
    lambdaEndpoint: env.LAMBDA_ENDPOINT || undefined,
    relayFunctions: {
      orders: env.ORDERS_RELAY_FUNCTION || undefined,
      payments: env.PAYMENTS_RELAY_FUNCTION || undefined,
    },
    websocketEndpoint: env.WEBSOCKET_ENDPOINT ?? "http://127.0.0.1:3001",
    // 20: locally one process runs every function, many events at once (an AWS stage sets 2, see pool.ts).
    dbPoolMax: positiveNumber(env, "DB_POOL_MAX", 20),
    dbConnectTimeoutMs: positiveNumber(env, "DB_CONNECT_TIMEOUT_MS", 1_000),
    dbStatementTimeoutMs: positiveNumber(env, "DB_STATEMENT_TIMEOUT_MS", 8_000),
    awsRequestTimeoutMs: positiveNumber(env, "AWS_REQUEST_TIMEOUT_MS", 3_000),
    relayLingerMs: positiveNumber(env, "RELAY_LINGER_MS", 500),
    kafkaSendTimeoutMs: positiveNumber(env, "KAFKA_SEND_TIMEOUT_MS", 5_000),
    kafkaMaxRecordBytes: positiveNumber(env, "KAFKA_MAX_RECORD_BYTES", 1_000_000),
    invocationReportMs: env.INVOCATION_REPORT_MS ? positiveNumber(env, "INVOCATION_REPORT_MS", 0) : 0,
    retention: {
      outboxHours: positiveNumber(env, "OUTBOX_RETENTION_HOURS", 72),
      inboxHours: positiveNumber(env, "INBOX_RETENTION_HOURS", 14 * 24),
      idempotencyKeyHours: positiveNumber(env, "IDEMPOTENCY_KEY_RETENTION_HOURS", 24),
    },
  };
}

let cached: Config | undefined;

/** The configuration of this process, read once (a Lambda container keeps it across invocations). */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
