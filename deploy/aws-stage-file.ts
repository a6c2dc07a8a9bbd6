import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { LOCAL_STAGE, type StageParams } from "./stage-params.ts";

/**
 * An AWS stage's settings file, stages/<stage>.yml (stages/prod.sample.yml shows every setting):
 * what each setting is, how it is checked, and the stage parameters made from it. A missing or
 * malformed setting stops `sls package` and `sls deploy` with a message that names it.
 */

const MSK_CLUSTER_ARN = /^arn:aws[a-z-]*:kafka:([a-z0-9-]+):(\d{12}):cluster\/[^/]+\/[^/]+$/;
const BROKERS = /^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/;

/** Every setting of an AWS stage file, each with what it is: the error messages quote these. */
export const SETTINGS = {
  mskClusterArn:
    "the MSK cluster's ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>, in the region of the stage",
  kafkaAuth: 'how the functions and the event source mappings authenticate to MSK: "iam" (the default) or "tls"',
  kafkaBrokers:
    'optional: the bootstrap brokers ("host:port,host:port") for kafkaAuth; by default the functions ask MSK (GetBootstrapBrokers)',
  subnetIds: "the private subnets the functions run in (a list of subnet-…), which reach the brokers and the databases",
  securityGroupIds:
    "the functions' security groups (a list of sg-…), admitted by the brokers' and the databases' groups",
  ordersDatabaseUrl:
    "the orders database's URL without a password, postgres://<user>@<RDS Proxy endpoint>:5432/orders?sslmode=verify-full",
  ordersDatabasePasswordSecret:
    'the full ARN of the Secrets Manager secret holding that user\'s password as JSON "password", such as the one RDS manages for it, in the region of the stage',
  ordersDatabaseSecretKmsKey:
    "optional: the ARN of the customer managed KMS key that secret is encrypted with; without it, Secrets Manager's own key",
  paymentsDatabaseUrl:
    "the payments database's URL without a password, postgres://<user>@<RDS Proxy endpoint>:5432/payments?sslmode=verify-full",
  paymentsDatabasePasswordSecret:
    'the full ARN of the Secrets Manager secret holding that user\'s password as JSON "password", such as the one RDS manages for it, in the region of the stage',
  paymentsDatabaseSecretKmsKey:
    "optional: the ARN of the customer managed KMS key that secret is encrypted with; without it, Secrets Manager's own key",
  dbPoolMax: "optional: connections per database in each function container (default 2)",
  frontendOrigins:
    "the origins the shop's page is served from (a list of https://host[:port]); CORS lets only these call the HTTP API from a browser",
  databaseConnections:
    "optional: the most connections the functions may hold to each database at once, RDS Proxy's limit for them (default 400); each function's reserved concurrency keeps its share under it",
  httpRateLimit:
    "optional: the HTTP API's throttling, requests per second across its routes (default 200); more are answered 429",
  httpBurstLimit: "optional: the burst the HTTP API takes above httpRateLimit (default 400)",
  tracesEndpoint:
    "optional: an OTLP/HTTP endpoint (http(s)://host:port) the functions send their spans to, such as a collector in the VPC; without it no spans are sent",
} as const;

/** Settings of earlier versions, with what replaced them. */
const RETIRED: Record<string, string> = {
  ordersDatabaseSecret: "ordersDatabaseUrl (without a password) and ordersDatabasePasswordSecret",
  paymentsDatabaseSecret: "paymentsDatabaseUrl (without a password) and paymentsDatabasePasswordSecret",
};

/** A full ARN (with Secrets Manager's 6-character suffix): a role can be scoped to exactly that secret. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[A-Za-z0-9/_+=.@!-]+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[0-9a-f-]+$/;

const databaseUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/[^/\s]+\/[^/\s?]+(\?\S*)?$/, "expected postgres://<user>@<host>:<port>/<database>")
  .refine((url) => URL.canParse(url) && new URL(url).username !== "", "names no user")
  .refine(
    (url) => !URL.canParse(url) || new URL(url).password === "",
    "holds a password: remove it, the functions read it from the secret at run time",
  )
  .refine((url) => !/@(localhost|127\.|\[::1\])/.test(url), "points at this machine");
const secretArn = z
  .string()
  .regex(SECRET_ARN, "not a secret's full ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>");
const kmsKeyArn = z.string().regex(KMS_KEY_ARN, "not a KMS key ARN, arn:aws:kms:<region>:<account>:key/<id>");

export const awsStageFile = z
  .object({
    mskClusterArn: z.string().regex(MSK_CLUSTER_ARN, "not an MSK cluster ARN"),
    kafkaAuth: z.enum(["iam", "tls"]).default("iam"),
    kafkaBrokers: z.string().regex(BROKERS, 'expected "host:port,host:port"').optional(),
    subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]+$/, "not a subnet id")).min(1),
    securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/, "not a security group id")).min(1),
    ordersDatabaseUrl: databaseUrl,
    ordersDatabasePasswordSecret: secretArn,
    ordersDatabaseSecretKmsKey: kmsKeyArn.optional(),
    paymentsDatabaseUrl: databaseUrl,
    paymentsDatabasePasswordSecret: secretArn,
    paymentsDatabaseSecretKmsKey: kmsKeyArn.optional(),
    dbPoolMax: z.number().int().min(1).max(20).default(2),
    frontendOrigins: z
      .array(z.string().regex(/^https:\/\/[^/\s*]+$/, "an https origin without a path, like https://shop.example.com"))
      .min(1),
    databaseConnections: z.number().int().min(10).default(400),
    httpRateLimit: z.number().int().min(1).default(200),
    httpBurstLimit: z.number().int().min(1).default(400),
    tracesEndpoint: z
      .string()
      .regex(
        /^https?:\/\/[^/\s]+\/?$/,
        "an OTLP/HTTP endpoint without a path, like http://otel-collector.internal:4318",
      )
      .optional(),
  })
  .strict();

export type AwsStageFile = z.infer<typeof awsStageFile>;

export class StageSettingsError extends Error {}

/**
 * `https://<api-id>.execute-api.<region>.<suffix>/<stage>`, from the WebSocket API's id. It names
 * the API, not its stage resource: the stage depends on the functions, so naming it would be a cycle.
 */
export const websocketEndpointOf = (stage: string) => ({
  "Fn::Join": [
    "",
    [
      "https://",
      { Ref: "WebsocketsApi" },
      ".execute-api.",
      { Ref: "AWS::Region" },
      ".",
      { Ref: "AWS::URLSuffix" },
      `/${stage}`,
    ],
  ],
});

/** Reads and checks an AWS stage's file; every problem is named in one message. */
export function awsStageParams(file: string, stage: string, region: string): StageParams {
  const shown = path.relative(process.cwd(), file) || file;
  if (!existsSync(file)) {
    throw new StageSettingsError(
      `Stage "${stage}" has no settings file ${shown}. Copy stages/prod.sample.yml to it and fill in: ${Object.keys(SETTINGS).join(", ")} (README, "Deploying to AWS"). The local stage is "${LOCAL_STAGE}".`,
    );
  }
  const parsed = awsStageFile.safeParse(parseYaml(readFileSync(file, "utf8")) ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? "");
      const about = key in SETTINGS ? ` (${SETTINGS[key as keyof typeof SETTINGS]})` : "";
      const what =
        issue.code === "invalid_type" && issue.input === undefined
          ? "missing"
          : issue.code === "unrecognized_keys"
            ? issue.keys
                .map((k) => (k in RETIRED ? `${k} is replaced by ${RETIRED[k]}` : `unknown setting ${k}`))
                .join("; ")
            : issue.message;
      return `  - ${issue.path.join(".") || "(file)"}${about}: ${what}`;
    });
    throw new StageSettingsError(
      `${shown} (stage "${stage}") is not a complete stage configuration:\n${problems.join("\n")}`,
    );
  }
  const settings = parsed.data;
  const clusterRegion = MSK_CLUSTER_ARN.exec(settings.mskClusterArn)![1];
  if (clusterRegion !== region) {
    throw new StageSettingsError(
      `${shown}: mskClusterArn is in ${clusterRegion}, the stage deploys to ${region} (an event source mapping needs both in one region; pass --region)`,
    );
  }
  for (const key of ["ordersDatabasePasswordSecret", "paymentsDatabasePasswordSecret"] as const) {
    const secretRegion = SECRET_ARN.exec(settings[key])![1];
    if (secretRegion !== region)
      throw new StageSettingsError(
        `${shown}: ${key} is in ${secretRegion}, the stage deploys to ${region} (the functions ask their own region's Secrets Manager)`,
      );
  }
  return {
    mskClusterArn: settings.mskClusterArn,
    kafkaAuth: settings.kafkaAuth,
    kafkaBrokers: settings.kafkaBrokers ?? "",
    vpc: { subnetIds: settings.subnetIds, securityGroupIds: settings.securityGroupIds },
    ordersDatabaseUrl: settings.ordersDatabaseUrl,
    paymentsDatabaseUrl: settings.paymentsDatabaseUrl,
    ordersDatabasePasswordSecret: settings.ordersDatabasePasswordSecret,
    paymentsDatabasePasswordSecret: settings.paymentsDatabasePasswordSecret,
    databaseSecretKeys: {
      ...(settings.ordersDatabaseSecretKmsKey ? { orders: settings.ordersDatabaseSecretKmsKey } : {}),
      ...(settings.paymentsDatabaseSecretKmsKey ? { payments: settings.paymentsDatabaseSecretKmsKey } : {}),
    },
    websocketEndpoint: websocketEndpointOf(stage),
    dbPoolMax: String(settings.dbPoolMax),
    lambdaEndpoint: "",
    auth: "on",
    cognitoUserPoolId: { Ref: "CognitoUserPool" },
    cognitoClientId: { Ref: "CognitoUserPoolClient" },
    cognitoIssuer: "",
    frontendOrigins: settings.frontendOrigins,
    limits: {
      databaseConnections: settings.databaseConnections,
      dbPoolMax: settings.dbPoolMax,
      httpRateLimit: settings.httpRateLimit,
      httpBurstLimit: settings.httpBurstLimit,
    },
    tracesExporter: settings.tracesEndpoint ? "otlp" : "none",
    otlpEndpoint: settings.tracesEndpoint ?? "",
  };
}
