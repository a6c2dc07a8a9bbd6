import path from "node:path";
import { awsStageParams } from "./aws-stage-file.ts";
import { LOCAL_STAGE, type StageParams } from "./stage-params.ts";

/**
 * The settings of a stage, as serverless.yml's `params` (see `params.default` there).
 *
 * - `dev` is the local stage (`npm start`, `sls offline`, `sls invoke local`): zero configuration,
 *   today's defaults, each overridable by the environment variable of the same name as before.
 * - Every other stage is an AWS stage and takes every setting from `stages/<stage>.yml`
 *   (`stages/prod.sample.yml` shows them all). Nothing falls back to localhost: a missing file or
 *   setting stops `sls package` and `sls deploy` with a message that names it.
 *
 * Secrets never pass through here, nor through the template: the stage file gives each database's
 * URL without a password and the ARN of the Secrets Manager secret holding it, which the functions
 * read at run time (shared/db/secret-password.ts) and their roles may read (deploy/roles.ts).
 */

const LOCAL_MSK_CLUSTER_ARN =
  "arn:aws:kafka:us-east-1:000000000000:cluster/gozon/00000000-0000-0000-0000-000000000000-1";

/** Today's local values; the start command sets most of these variables itself. */
export function localParams(env: NodeJS.ProcessEnv = process.env): StageParams {
  return {
    mskClusterArn: env.MSK_CLUSTER_ARN || LOCAL_MSK_CLUSTER_ARN,
    kafkaAuth: (env.KAFKA_AUTH ?? "") as StageParams["kafkaAuth"],
    kafkaBrokers: env.KAFKA_BROKERS ?? "",
    vpc: null,
    ordersDatabaseUrl: env.ORDERS_DATABASE_URL ?? "postgres://postgres@127.0.0.1:55432/orders",
    paymentsDatabaseUrl: env.PAYMENTS_DATABASE_URL ?? "postgres://postgres@127.0.0.1:55433/payments",
    ordersDatabasePasswordSecret: env.ORDERS_DATABASE_PASSWORD_SECRET_ARN ?? "",
    paymentsDatabasePasswordSecret: env.PAYMENTS_DATABASE_PASSWORD_SECRET_ARN ?? "",
    databaseSecretKeys: {},
    websocketEndpoint: env.WEBSOCKET_ENDPOINT ?? "http://127.0.0.1:3001",
    dbPoolMax: env.DB_POOL_MAX ?? "",
    lambdaEndpoint: env.LAMBDA_ENDPOINT ?? "",
    auth: env.AUTH === "off" ? "off" : "on",
    cognitoUserPoolId: env.COGNITO_USER_POOL_ID ?? "",
    cognitoClientId: env.COGNITO_CLIENT_ID ?? "",
    cognitoIssuer: env.COGNITO_ISSUER ?? "",
    frontendOrigins: (env.FRONTEND_ORIGINS ?? "http://127.0.0.1:8000,http://localhost:8000")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean),
    limits: null,
    // The start command points these at its OTLP bridge into Zipkin (or sets "none" with TRACES=off).
    tracesExporter: (env.OTEL_TRACES_EXPORTER || "none") as StageParams["tracesExporter"],
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "",
  };
}

/** Where an AWS stage's settings live: stages/<stage>.yml, or the file GOZON_STAGE_FILE names. */
export function stageFileOf(serviceDir: string, stage: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.GOZON_STAGE_FILE
    ? path.resolve(serviceDir, env.GOZON_STAGE_FILE)
    : path.join(serviceDir, "stages", `${stage}.yml`);
}

export function stageParams(options: {
  serviceDir: string;
  stage: string;
  region: string;
  env?: NodeJS.ProcessEnv;
}): StageParams {
  const env = options.env ?? process.env;
  if (options.stage === LOCAL_STAGE) return localParams(env);
  return awsStageParams(stageFileOf(options.serviceDir, options.stage, env), options.stage, options.region);
}

interface VariableSourceContext {
  resolveVariable(variable: string): Promise<unknown>;
}

/** The `${file(./deploy/stage-settings.cjs)}` entry point. */
export default async function resolve({ resolveVariable }: VariableSourceContext): Promise<StageParams> {
  const [stage, region] = await Promise.all([resolveVariable("sls:stage"), resolveVariable("self:provider.region")]);
  return stageParams({ serviceDir: process.cwd(), stage: String(stage), region: String(region) });
}
