import type { Database } from "../shared/contract/manifest.ts";

/** The local stage (`npm start`, `sls offline`, `sls invoke local`); every other stage is an AWS stage. */
export const LOCAL_STAGE = "dev";

/** What serverless.yml reads with `${param:...}`. */
export interface StageParams {
  /** The MSK cluster the `msk` events and the IAM statements name. */
  mskClusterArn: string;
  /** KAFKA_AUTH of the functions (shared/config.ts): "" lets the code decide (local). */
  kafkaAuth: "" | "none" | "tls" | "iam";
  /** KAFKA_BROKERS of the functions: "" means "ask MSK's control plane". */
  kafkaBrokers: string;
  /** provider.vpc; null keeps the local stage out of any VPC. */
  vpc: { subnetIds: string[]; securityGroupIds: string[] } | null;
  /** Each database's URL: on AWS without a password, which its secret holds. */
  ordersDatabaseUrl: string;
  paymentsDatabaseUrl: string;
  /** The ARN of the secret each database's password is read from at run time; "" locally, where the URL holds it. */
  ordersDatabasePasswordSecret: string;
  paymentsDatabasePasswordSecret: string;
  /** The customer managed KMS key a database's secret is encrypted with, if any: its readers may decrypt with it. */
  databaseSecretKeys: Partial<Record<Database, string>>;
  /** The API Gateway management endpoint of this stage's WebSocket API. */
  websocketEndpoint: string | Record<string, unknown>;
  /** DB_POOL_MAX: "" keeps the code's default (20: locally one process runs every function). */
  dbPoolMax: string;
  /** LAMBDA_ENDPOINT: serverless-offline's Lambda endpoint locally, "" (the SDK's default) on AWS. */
  lambdaEndpoint: string;
  /** AUTH of the functions: "on" on AWS; locally "off" only when the start command runs with AUTH=off. */
  auth: "on" | "off";
  /** The user pool and app client whose access tokens the functions accept: the stage's own (CloudFormation refs) on AWS, the start command's locally. */
  cognitoUserPoolId: string | Record<string, unknown>;
  cognitoClientId: string | Record<string, unknown>;
  /** COGNITO_ISSUER: "" on AWS (the functions derive Cognito's own); cognito-local's URL locally. */
  cognitoIssuer: string;
  /** The origins of the shop's page: the only ones CORS lets call the HTTP API from a browser. */
  frontendOrigins: string[];
  /** What a burst may take (deploy/limits.ts); none locally, where the front sheds by itself. */
  limits: StageLimits | null;
  /**
   * Where the functions' spans go, as OpenTelemetry's own variables (shared/tracing/provider.ts):
   * OTEL_TRACES_EXPORTER ("otlp" or "none"), and the OTLP/HTTP endpoint.
   */
  tracesExporter: "otlp" | "none";
  otlpEndpoint: string;
}

export interface StageLimits {
  /** The most connections the functions may hold to each database at once. */
  databaseConnections: number;
  /** Connections per database in each container (DB_POOL_MAX). */
  dbPoolMax: number;
  /** The HTTP API's default route throttling: requests per second, and the burst above it. */
  httpRateLimit: number;
  httpBurstLimit: number;
}

/** The secret a database's password is read from at run time; "" where its URL holds it (locally). */
export const passwordSecretOf = (
  params: Pick<StageParams, "ordersDatabasePasswordSecret" | "paymentsDatabasePasswordSecret">,
  database: Database,
): string => (database === "orders" ? params.ordersDatabasePasswordSecret : params.paymentsDatabasePasswordSecret);
