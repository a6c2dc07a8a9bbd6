import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import JSZip from "jszip";
import { parse as parseYaml } from "yaml";
import { ALL_TOPICS, TOPICS } from "../../shared/contract/events.ts";
import { FUNCTIONS as MANIFEST, type FunctionSpec } from "../../shared/contract/manifest.ts";
import { awsStageFile } from "../../deploy/aws-stage-file.ts";
import { functionRoles } from "../../deploy/roles.ts";
import { roleLogicalId } from "../../deploy/roles/naming.ts";
import { mskResourceArn } from "../../deploy/roles/statements.ts";
import { localParams, stageParams } from "../../deploy/stage-settings.ts";

/**
 * `sls package --stage prod` with the sample stage file, offline, in a copy of the service (so the
 * bundler's work folder never touches the one a running `npm start` uses), then the template as
 * CloudFormation would get it.
 */

const ROOT = path.resolve(import.meta.dirname, "../..");
const SAMPLE = parseYaml(await readFile(path.join(ROOT, "stages/prod.sample.yml"), "utf8")) as {
  mskClusterArn: string;
  subnetIds: string[];
  securityGroupIds: string[];
  ordersDatabaseUrl: string;
  ordersDatabasePasswordSecret: string;
  paymentsDatabaseUrl: string;
  paymentsDatabasePasswordSecret: string;
  paymentsDatabaseSecretKmsKey: string;
  tracesEndpoint: string;
};
const CLUSTER = SAMPLE.mskClusterArn;
const STAGE = "prod";

/** What the packaging shell has: local values everywhere, none of which may reach the template. */
const LEAKY_SHELL = {
  ORDERS_DATABASE_URL: "postgres://postgres@127.0.0.1:55432/orders",
  PAYMENTS_DATABASE_URL: "postgres://postgres@127.0.0.1:55433/payments",
  KAFKA_BROKERS: "127.0.0.1:9092",
  WEBSOCKET_ENDPOINT: "http://127.0.0.1:3001",
  LAMBDA_ENDPOINT: "http://127.0.0.1:3002",
  MSK_CLUSTER_ARN: "arn:aws:kafka:us-east-1:000000000000:cluster/local/0000-1",
};

const execFileP = promisify(execFile);

async function sls(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; output: string }> {
  const cli = path.join(dir, "node_modules", "serverless", "bin", "serverless.js");
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [cli, ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        AWS_ACCESS_KEY_ID: "x",
        AWS_SECRET_ACCESS_KEY: "x",
        AWS_EC2_METADATA_DISABLED: "true",
        SLS_TELEMETRY_DISABLED: "1",
        NPM_CONFIG_UPDATE_NOTIFIER: "false",
        ...env,
      },
      maxBuffer: 32 * 1024 * 1024,
      timeout: 240_000,
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}${e.message}` };
  }
}

/** The service's files, the installed packages linked, in a folder of its own. */
async function serviceCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "gozon-package-"));
  for (const entry of [
    "serverless.yml",
    "package.json",
    "tsconfig.json",
    "deploy",
    "stages",
    "functions",
    "shared",
    "local",
  ]) {
    await mkdir(path.dirname(path.join(dir, entry)), { recursive: true });
    await cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  await symlink(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

interface Resource {
  Type: string;
  DependsOn?: string[];
  Properties: Record<string, unknown>;
}
interface PolicyStatement {
  Sid: string;
  Effect: string;
  Action: string[];
  Resource: unknown;
}

/** Every function of the manifest (shared/contract/manifest.ts), which serverless.yml's are made from. */
const FUNCTIONS = Object.keys(MANIFEST);
const specOf = (key: string): FunctionSpec => (MANIFEST as Record<string, FunctionSpec>)[key]!;
const functionLogicalId = (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction`;

/**
 * What each function may do beyond its logs and its network interfaces, written out here on its own
 * (not read from deploy/roles.ts), so a role that grows or shrinks fails this test.
 */
const EXPECTED_SIDS: Record<string, string[]> = {
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
const WAKES: Record<string, string[]> = {
  createOrder: ["ordersOutboxRelay"],
  onPaymentProcessed: ["ordersOutboxRelay"],
  onBalanceUpdated: ["ordersOutboxRelay"],
  ordersOutboxRelay: ["ordersOutboxRelay"],
  createAccount: ["paymentsOutboxRelay"],
  deposit: ["paymentsOutboxRelay"],
  onOrderCreated: ["paymentsOutboxRelay"],
  paymentsOutboxRelay: ["paymentsOutboxRelay"],
};
const DATABASES: Record<string, Array<"ORDERS_DATABASE_URL" | "PAYMENTS_DATABASE_URL">> = {
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
const CONSUMER_SIDS = [
  "MskControlPlane",
  "ConnectToCluster",
  "ReadSourceTopic",
  "CommitAsConsumerGroup",
  "WriteOnFailureTopic",
];
const URL_OF = { orders: "ORDERS_DATABASE_URL", payments: "PAYMENTS_DATABASE_URL" } as const;
const databasesOf = (key: string) => DATABASES[key] ?? specOf(key).databases.map((d) => URL_OF[d]);
const wakesOf = (key: string): string[] | undefined => {
  if (key in EXPECTED_SIDS) return WAKES[key];
  const spec = specOf(key);
  return "topic" in spec.trigger || spec.writes?.length ? [`${spec.databases[0]}OutboxRelay`] : undefined;
};
const expectedSidsOf = (key: string): string[] => {
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

const joinOf = (value: unknown): unknown[] => {
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  assert.ok(join, `expected an Fn::Join, got ${JSON.stringify(value)}`);
  return join[1];
};

describe(
  "the prod template (sls package --stage prod with stages/prod.sample.yml, offline)",
  { timeout: 300_000 },
  () => {
    let dir: string;
    let template: { Resources: Record<string, Resource> };
    let resources: Record<string, Resource>;
    let text: string;

    before(async () => {
      dir = await serviceCopy();
      const packaged = await sls(dir, ["package", "--stage", STAGE, "--package", path.join(dir, "out")], {
        ...LEAKY_SHELL,
        GOZON_STAGE_FILE: "stages/prod.sample.yml",
      });
      assert.ok(packaged.ok, `sls package failed:\n${packaged.output}`);
      text = await readFile(path.join(dir, "out", "cloudformation-template-update-stack.json"), "utf8");
      template = JSON.parse(text) as typeof template;
      resources = template.Resources;
    });

    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const fn = (key: string) => resources[functionLogicalId(key)]!;
    const env = (key: string) => (fn(key).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const statements = (key: string): PolicyStatement[] => {
      const role = resources[roleLogicalId(key)]!;
      const policies = role.Properties.Policies as Array<{ PolicyDocument: { Statement: PolicyStatement[] } }>;
      assert.equal(policies.length, 1);
      return policies[0]!.PolicyDocument.Statement;
    };
    const sid = (key: string, name: string) => {
      const found = statements(key).find((s) => s.Sid === name);
      assert.ok(found, `${key} has a ${name} statement`);
      return found;
    };
    const mappings = () => Object.values(resources).filter((r) => r.Type === "AWS::Lambda::EventSourceMapping");
    const consumerOf = (mapping: Resource) =>
      FUNCTIONS.find((key) => JSON.stringify(mapping.Properties.FunctionName).includes(`"${functionLogicalId(key)}"`))!;

    it("packages each function as a bundle that loads on the runtime's Node and exports its handler", async () => {
      // The start command runs the handlers from source; this is where the bundles that deploy are run.
      const bundles = await mkdtemp(path.join(tmpdir(), "gozon-bundles-"));
      try {
        const entries: Array<[string, string]> = [];
        for (const key of FUNCTIONS) {
          const handler = (fn(key).Properties.Handler as string).split(".");
          const file = `${handler.slice(0, -1).join(".")}.cjs`;
          const zip = await JSZip.loadAsync(await readFile(path.join(dir, "out", `${key}.zip`)));
          const code = await zip.file(file)?.async("nodebuffer");
          assert.ok(code, `${key}.zip holds ${file}`);
          await mkdir(path.dirname(path.join(bundles, key, file)), { recursive: true });
          await writeFile(path.join(bundles, key, file), code);
          entries.push([path.join(bundles, key, file), handler.at(-1)!]);
        }
        // Lambda's Node runtime brings the SDK's clients, which the bundles leave out.
        const probe = `for (const [file, name] of ${JSON.stringify(entries)}) if (typeof require(file)[name] !== "function") throw new Error(file + " exports no " + name);`;
        await execFileP(process.execPath, ["-e", probe], {
          env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") },
          timeout: 60_000,
        });
      } finally {
        await rm(bundles, { recursive: true, force: true });
      }
    });

    it("has no localhost, no shared role and no secret resolved into the template anywhere", () => {
      for (const local of ["127.0.0.1", "localhost", "http://", ":55432", ":9092", "{{resolve:"]) {
        assert.ok(!text.includes(local), `the prod template contains ${local}`);
      }
      assert.equal(resources.IamRoleLambdaExecution, undefined);
    });

    it("holds no password in any function's environment", () => {
      for (const key of FUNCTIONS) {
        for (const [name, value] of Object.entries(env(key))) {
          assert.doesNotMatch(name, /PASSWORD$|SECRET$/, `${key}: ${name} is no password`);
          const text = JSON.stringify(value);
          assert.ok(!text.includes("{{resolve:"), `${key}: ${name} resolves nothing at deploy time`);
          for (const url of text.match(/postgres(ql)?:\/\/[^"\s]+/g) ?? [])
            assert.equal(new URL(url).password, "", `${key}: ${name} holds a URL with a password`);
        }
      }
    });

    it(`gives each of the ${FUNCTIONS.length} functions a role of its own`, () => {
      const functions = Object.entries(resources).filter(([, r]) => r.Type === "AWS::Lambda::Function");
      assert.deepEqual(functions.map(([id]) => id).sort(), FUNCTIONS.map(functionLogicalId).sort());
      const roles = new Set<string>();
      for (const key of FUNCTIONS) {
        assert.deepEqual(fn(key).Properties.Role, { "Fn::GetAtt": [roleLogicalId(key), "Arn"] });
        assert.equal(resources[roleLogicalId(key)]?.Type, "AWS::IAM::Role");
        roles.add(roleLogicalId(key));
      }
      assert.equal(roles.size, FUNCTIONS.length);
      assert.equal(Object.values(resources).filter((r) => r.Type === "AWS::IAM::Role").length, FUNCTIONS.length);
    });

    it("lets each role do what its function does, and nothing else", () => {
      for (const key of FUNCTIONS) {
        const sids = statements(key).map((s) => s.Sid);
        assert.deepEqual(
          sids.sort(),
          ["NetworkInterfaces", "WriteOwnLogs", ...expectedSidsOf(key)].sort(),
          `statements of ${key}`,
        );
        for (const s of statements(key)) {
          assert.equal(s.Effect, "Allow");
          assert.ok(!s.Action.some((a) => a === "*" || a.endsWith(":*")), `${key} ${s.Sid}: no wildcard action`);
          if (s.Resource === "*")
            assert.ok(
              s.Action.every((a) => a.startsWith("ec2:")),
              `${key} ${s.Sid}: only ec2 network interface actions on "*"`,
            );
        }
        const logs = JSON.stringify(sid(key, "WriteOwnLogs").Resource);
        assert.ok(
          logs.includes(`log-group:/aws/lambda/gozon-shop-${STAGE}-${key}:*`),
          `${key} writes only its own log group`,
        );
        assert.deepEqual(sid(key, "WriteOwnLogs").Action.sort(), ["logs:CreateLogStream", "logs:PutLogEvents"]);
      }
    });

    it("lets a function invoke only the relay it wakes", () => {
      for (const key of FUNCTIONS) {
        const wakes = wakesOf(key);
        if (!wakes) {
          assert.ok(!statements(key).some((s) => s.Action.includes("lambda:InvokeFunction")), `${key} invokes nothing`);
          continue;
        }
        const statement = sid(key, "WakeOutboxRelay");
        assert.deepEqual(statement.Action, ["lambda:InvokeFunction"]);
        const targets = (statement.Resource as unknown[]).map((r) => String(joinOf(r).at(-1)));
        assert.deepEqual(
          targets,
          wakes.map((relay) => `function:gozon-shop-${STAGE}-${relay}`),
        );
      }
    });

    it("lets only the pushing functions post to connections, and only on this stage of this WebSocket API", () => {
      for (const key of ["onPaymentProcessed", "onBalanceUpdated", "wsSync"]) {
        const statement = sid(key, "PushToThisApiConnections");
        assert.deepEqual(statement.Action, ["execute-api:ManageConnections"]);
        const parts = joinOf(statement.Resource);
        assert.ok(
          parts.some((p) => JSON.stringify(p) === JSON.stringify({ Ref: "WebsocketsApi" })),
          `${key}: scoped to this API`,
        );
        assert.equal(parts.at(-1), `/${STAGE}/POST/@connections/*`);
        assert.ok(!JSON.stringify(parts).includes('"*/'), `${key}: no wildcard API`);
      }
      const pushers = FUNCTIONS.filter((key) =>
        statements(key).some((s) => s.Action.includes("execute-api:ManageConnections")),
      );
      assert.deepEqual(pushers.sort(), ["onBalanceUpdated", "onPaymentProcessed", "wsSync"]);
    });

    it("throttles the HTTP API and reserves concurrency so no database is given more connections than the stage allows", () => {
      const stageFile = SAMPLE as unknown as {
        databaseConnections: number;
        httpRateLimit: number;
        httpBurstLimit: number;
        dbPoolMax: number;
      };
      const stage = resources.HttpApiStage!;
      assert.deepEqual(stage.Properties.DefaultRouteSettings, {
        ThrottlingRateLimit: stageFile.httpRateLimit,
        ThrottlingBurstLimit: stageFile.httpBurstLimit,
      });
      for (const variable of ["ORDERS_DATABASE_URL", "PAYMENTS_DATABASE_URL"]) {
        const users = FUNCTIONS.filter((key) => variable in env(key));
        assert.ok(users.length > 0, variable);
        let connections = 0;
        for (const key of users) {
          const reserved = fn(key).Properties.ReservedConcurrentExecutions;
          assert.ok(
            typeof reserved === "number" && reserved >= 1,
            `${key} has a reserved concurrency (${String(reserved)})`,
          );
          connections += reserved * stageFile.dbPoolMax;
        }
        assert.ok(
          connections <= stageFile.databaseConnections,
          `${variable}: ${connections} connections at most, the stage allows ${stageFile.databaseConnections}`,
        );
      }
    });

    it("puts every function in the stage's VPC", () => {
      for (const key of FUNCTIONS) {
        assert.deepEqual(
          fn(key).Properties.VpcConfig,
          { SecurityGroupIds: SAMPLE.securityGroupIds, SubnetIds: SAMPLE.subnetIds },
          key,
        );
        const network = sid(key, "NetworkInterfaces").Action;
        for (const action of [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DeleteNetworkInterface",
        ])
          assert.ok(network.includes(action), `${key} ${action}`);
      }
    });

    it("builds WEBSOCKET_ENDPOINT from the WebSocket API's id, and takes every setting from the stage file", () => {
      for (const key of FUNCTIONS) {
        const vars = env(key);
        assert.deepEqual(vars.WEBSOCKET_ENDPOINT, {
          "Fn::Join": [
            "",
            [
              "https://",
              { Ref: "WebsocketsApi" },
              ".execute-api.",
              { Ref: "AWS::Region" },
              ".",
              { Ref: "AWS::URLSuffix" },
              `/${STAGE}`,
            ],
          ],
        });
        assert.equal(vars.KAFKA_AUTH, "iam");
        assert.equal(vars.KAFKA_BROKERS, "");
        assert.equal(vars.MSK_CLUSTER_ARN, CLUSTER);
        assert.equal(vars.LAMBDA_ENDPOINT, "");
        assert.equal(vars.DB_POOL_MAX, "2");
        assert.equal(vars.OTEL_TRACES_EXPORTER, "otlp", "spans go over OTLP");
        assert.equal(vars.OTEL_EXPORTER_OTLP_ENDPOINT, SAMPLE.tracesEndpoint);
        assert.equal(vars.ORDERS_RELAY_FUNCTION, `gozon-shop-${STAGE}-ordersOutboxRelay`);
      }
      assert.ok(resources.WebsocketsApi, "the API the endpoint names exists");
    });

    it("hands each function only its own database's URL (no password) and the ARN of the secret holding it", () => {
      const given = {
        ORDERS_DATABASE_URL: [SAMPLE.ordersDatabaseUrl, SAMPLE.ordersDatabasePasswordSecret],
        PAYMENTS_DATABASE_URL: [SAMPLE.paymentsDatabaseUrl, SAMPLE.paymentsDatabasePasswordSecret],
      } as const;
      for (const key of FUNCTIONS) {
        const vars = env(key);
        const present = (["ORDERS_DATABASE_URL", "PAYMENTS_DATABASE_URL"] as const).filter((name) => name in vars);
        assert.deepEqual(present, databasesOf(key), `databases of ${key}`);
        const secrets = Object.keys(vars).filter((name) => name.endsWith("_DATABASE_PASSWORD_SECRET_ARN"));
        assert.deepEqual(
          secrets,
          present.map((name) => name.replace(/_URL$/, "_PASSWORD_SECRET_ARN")),
          key,
        );
        for (const name of present) {
          assert.equal(vars[name], given[name][0]);
          assert.equal(vars[name.replace(/_URL$/, "_PASSWORD_SECRET_ARN")], given[name][1]);
        }
      }
    });

    it("lets each role read only its own database's secret, and decrypt it only through Secrets Manager", () => {
      const secretOf = {
        ORDERS_DATABASE_URL: SAMPLE.ordersDatabasePasswordSecret,
        PAYMENTS_DATABASE_URL: SAMPLE.paymentsDatabasePasswordSecret,
      };
      for (const key of FUNCTIONS) {
        const reads = statements(key).filter((s) => s.Action.some((a) => a.startsWith("secretsmanager:")));
        const decrypts = statements(key).filter((s) => s.Action.some((a) => a.startsWith("kms:")));
        if (databasesOf(key).length === 0) {
          assert.deepEqual([...reads, ...decrypts], [], `${key} reads no secret`);
          continue;
        }
        assert.deepEqual(reads, [sid(key, "ReadDatabasePassword")], `${key}: one statement reads secrets`);
        assert.deepEqual(sid(key, "ReadDatabasePassword").Action, ["secretsmanager:GetSecretValue"]);
        assert.deepEqual(
          sid(key, "ReadDatabasePassword").Resource,
          databasesOf(key).map((name) => secretOf[name]),
          `${key} reads its own database's secret, by its full ARN`,
        );
        // Only the payments secret names a customer managed key in the sample.
        if (!databasesOf(key).includes("PAYMENTS_DATABASE_URL")) {
          assert.deepEqual(decrypts, [], `${key} decrypts nothing`);
          continue;
        }
        const decrypt = sid(key, "DecryptDatabasePassword") as PolicyStatement & { Condition: unknown };
        assert.deepEqual(decrypts, [decrypt]);
        assert.deepEqual(decrypt.Action, ["kms:Decrypt"]);
        assert.deepEqual(decrypt.Resource, [SAMPLE.paymentsDatabaseSecretKmsKey]);
        assert.deepEqual(decrypt.Condition, {
          StringEquals: { "kms:ViaService": { "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com" } },
        });
      }
    });

    it("configures every Kafka event source: the batching window, the failure settings, MSK IAM auth through its own role", () => {
      const all = mappings();
      assert.equal(all.length, FUNCTIONS.filter((key) => "topic" in specOf(key).trigger).length);
      assert.ok(all.length >= 3);
      for (const mapping of all) {
        const p = mapping.Properties;
        const key = consumerOf(mapping);
        const topic = (p.Topics as string[])[0]!;
        const group = (p.AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId: string }).ConsumerGroupId;
        assert.equal(p.EventSourceArn, CLUSTER);
        assert.equal(p.MaximumBatchingWindowInSeconds, 0, key);
        assert.equal(p.BatchSize, 100);
        assert.equal(p.StartingPosition, "TRIM_HORIZON");
        assert.equal(p.MaximumRetryAttempts, 5);
        assert.equal(p.BisectBatchOnFunctionError, true);
        assert.equal(p.MaximumRecordAgeInSeconds, -1);
        assert.deepEqual(p.FunctionResponseTypes, ["ReportBatchItemFailures"]);
        assert.deepEqual(p.ProvisionedPollerConfig, { MinimumPollers: 1, MaximumPollers: 2 });
        assert.deepEqual(p.DestinationConfig, { OnFailure: { Destination: `kafka://${topic}.dlt` } });
        // IAM: Lambda authenticates with the function's role when the mapping names no secret.
        assert.equal(p.SourceAccessConfigurations, undefined, `${key}: IAM auth, no SASL/SCRAM secret`);
        assert.ok(mapping.DependsOn?.includes(roleLogicalId(key)), `${key}: the mapping waits for its role`);
        assert.deepEqual(sid(key, "MskControlPlane").Action.sort(), [
          "kafka:DescribeClusterV2",
          "kafka:GetBootstrapBrokers",
        ]);
        assert.equal(sid(key, "MskControlPlane").Resource, CLUSTER);
        assert.deepEqual(sid(key, "ConnectToCluster").Action.sort(), [
          "kafka-cluster:Connect",
          "kafka-cluster:DescribeClusterDynamicConfiguration",
        ]);
        assert.equal(sid(key, "ConnectToCluster").Resource, CLUSTER);
        assert.deepEqual(sid(key, "ReadSourceTopic").Action.sort(), [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:ReadData",
        ]);
        assert.equal(sid(key, "ReadSourceTopic").Resource, mskResourceArn(CLUSTER, "topic", topic));
        assert.deepEqual(sid(key, "CommitAsConsumerGroup").Action.sort(), [
          "kafka-cluster:AlterGroup",
          "kafka-cluster:DescribeGroup",
        ]);
        assert.equal(sid(key, "CommitAsConsumerGroup").Resource, mskResourceArn(CLUSTER, "group", group));
        assert.deepEqual(sid(key, "WriteOnFailureTopic").Action.sort(), [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:WriteData",
        ]);
        assert.equal(sid(key, "WriteOnFailureTopic").Resource, mskResourceArn(CLUSTER, "topic", `${topic}.dlt`));
        for (const s of statements(key))
          assert.ok(!s.Action.includes("kafka-cluster:WriteDataIdempotently"), `${key} produces nothing itself`);
      }
    });

    it("lets each relay write exactly its outbox's topics, dead letters of its database's consumers included", () => {
      const written: Record<string, string[]> = {};
      for (const relay of ["ordersOutboxRelay", "paymentsOutboxRelay"]) {
        const publish = sid(relay, "PublishOutboxTopics");
        assert.deepEqual(publish.Action.sort(), ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"]);
        written[relay] = (publish.Resource as string[]).map((arn) => arn.split("/").at(-1)!);
        assert.deepEqual(
          publish.Resource,
          written[relay].map((t) => mskResourceArn(CLUSTER, "topic", t)),
        );
        assert.deepEqual(sid(relay, "ConnectToCluster").Action.sort(), [
          "kafka-cluster:Connect",
          "kafka-cluster:WriteDataIdempotently",
        ]);
        assert.deepEqual(sid(relay, "MskControlPlane").Action, ["kafka:GetBootstrapBrokers"]);
      }
      const all = [...written.ordersOutboxRelay!, ...written.paymentsOutboxRelay!];
      assert.deepEqual([...new Set(all)].sort(), [...ALL_TOPICS].sort(), "every topic has a writing relay");
      for (const topic of Object.keys(TOPICS))
        assert.equal(all.filter((t) => t === topic).length, 1, `${topic} has exactly one writing relay`);
      // A consumer parks an unreadable record through its own database's outbox.
      for (const mapping of mappings()) {
        const key = consumerOf(mapping);
        const relay = "ORDERS_DATABASE_URL" in env(key) ? "ordersOutboxRelay" : "paymentsOutboxRelay";
        assert.ok(
          written[relay]!.includes(`${(mapping.Properties.Topics as string[])[0]}.dlt`),
          `${relay} writes ${key}'s dead letters`,
        );
      }
      assert.deepEqual(sid("health", "ConnectToCluster").Action, ["kafka-cluster:Connect"]);
    });

    it("alarms the operators on a stuck outbox, a consumer falling behind for 5 minutes, and any new dead letter", () => {
      const alarms = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::Alarm");
      const described = (text: string) => alarms.filter((a) => String(a.Properties.AlarmDescription).includes(text));
      const dimensionsOf = (metric: { Dimensions: Array<{ Name: string; Value: string }> }) =>
        Object.fromEntries(metric.Dimensions.map((d) => [d.Name, d.Value]));
      const sampler = `gozon-shop-${STAGE}-sampleMetrics`;
      for (const alarm of alarms) {
        assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: "ShopAlarmsTopic" }]);
      }
      assert.equal(resources.ShopAlarmsTopic?.Type, "AWS::SNS::Topic");

      const stuck = described("oldest unpublished row is older than 60 s");
      assert.equal(stuck.length, 2);
      for (const [alarm, database] of stuck.map((a, i) => [a, ["orders", "payments"][i]] as const)) {
        assert.equal(alarm.Properties.Namespace, "GozonShop");
        assert.equal(alarm.Properties.MetricName, "OutboxOldestAge");
        assert.equal(alarm.Properties.Threshold, 60);
        assert.equal(alarm.Properties.ComparisonOperator, "GreaterThanThreshold");
        assert.deepEqual(dimensionsOf(alarm.Properties as never), {
          service: "gozon-shop",
          FunctionName: sampler,
          Database: database,
        });
      }
      type MathQuery = {
        Id: string;
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: string }> } };
      };
      const growthOf = (alarm: Resource) => {
        const queries = alarm.Properties.Metrics as MathQuery[];
        assert.equal(queries.find((q) => q.Expression)?.Expression, "DIFF(level)");
        return queries.find((q) => q.MetricStat)!.MetricStat!.Metric;
      };
      const lagging = described("has fallen further behind in each of the last 5 minutes");
      assert.deepEqual(lagging.map((a) => dimensionsOf(growthOf(a)).ConsumerGroup).sort(), [
        "gozon-notifications-balances",
        "gozon-orders-payment-results",
        "gozon-payments-charges",
      ]);
      for (const alarm of lagging) {
        assert.equal(growthOf(alarm).MetricName, "ConsumerLag");
        assert.equal(alarm.Properties.EvaluationPeriods, 5);
        assert.equal(alarm.Properties.DatapointsToAlarm, 5);
      }
      const deadLetters = described("a record was dead-lettered on");
      assert.deepEqual(deadLetters.map((a) => dimensionsOf(growthOf(a)).Topic).sort(), [
        "orders.created.dlt",
        "payments.balance-updated.dlt",
        "payments.processed.dlt",
      ]);
      for (const alarm of deadLetters) assert.equal(alarm.Properties.EvaluationPeriods, 1);
    });

    it("declares the stage's Cognito user pool and the page's app client, kept when the stack goes", () => {
      const pool = resources.CognitoUserPool!;
      assert.equal(pool.Type, "AWS::Cognito::UserPool");
      assert.equal((pool as unknown as { DeletionPolicy: string }).DeletionPolicy, "Retain");
      assert.deepEqual(pool.Properties.UsernameAttributes, ["email"]);
      assert.deepEqual(pool.Properties.AutoVerifiedAttributes, ["email"]);
      const client = resources.CognitoUserPoolClient!;
      assert.equal(client.Type, "AWS::Cognito::UserPoolClient");
      assert.deepEqual(client.Properties.UserPoolId, { Ref: "CognitoUserPool" });
      assert.equal(client.Properties.GenerateSecret, false, "a browser cannot keep a client secret");
      assert.deepEqual((client.Properties.ExplicitAuthFlows as string[]).sort(), [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
      ]);
      assert.equal(client.Properties.EnableTokenRevocation, true);
    });

    it("hands every function that pool and client, with sign-in on, and lets only the page's origins call the API", () => {
      for (const key of FUNCTIONS) {
        const vars = env(key);
        assert.equal(vars.AUTH, "on", key);
        assert.deepEqual(vars.COGNITO_USER_POOL_ID, { Ref: "CognitoUserPool" }, key);
        assert.deepEqual(vars.COGNITO_CLIENT_ID, { Ref: "CognitoUserPoolClient" }, key);
        assert.equal(vars.COGNITO_ISSUER, "", `${key}: the issuer is Cognito's own, derived from region and pool`);
      }
      const api = Object.values(resources).find(
        (r) => r.Type === "AWS::ApiGatewayV2::Api" && r.Properties.ProtocolType === "HTTP",
      )!;
      const cors = api.Properties.CorsConfiguration as {
        AllowOrigins: string[];
        AllowHeaders: string[];
        ExposeHeaders: string[];
      };
      assert.deepEqual(cors.AllowOrigins, ["https://shop.example.com"]);
      assert.ok(cors.AllowHeaders.includes("Authorization"));
      assert.ok(cors.ExposeHeaders.includes("Next-Cursor"));
    });

    it("authorizes the WebSocket's $connect with the wsAuthorize Lambda (REQUEST, ?token=), and nothing else needs it", () => {
      const authorizers = Object.entries(resources).filter(([, r]) => r.Type === "AWS::ApiGatewayV2::Authorizer");
      assert.equal(authorizers.length, 1);
      const [authorizerId, authorizer] = authorizers[0]!;
      assert.equal(authorizer.Properties.AuthorizerType, "REQUEST");
      assert.deepEqual(authorizer.Properties.IdentitySource, ["route.request.querystring.token"]);
      assert.ok(
        JSON.stringify(authorizer.Properties.AuthorizerUri).includes(functionLogicalId("wsAuthorize")),
        "the authorizer runs wsAuthorize",
      );
      const routes = Object.values(resources).filter(
        (r) => r.Type === "AWS::ApiGatewayV2::Route" && !/ /.test(String(r.Properties.RouteKey)),
      );
      const connect = routes.find((r) => r.Properties.RouteKey === "$connect")!;
      assert.equal(connect.Properties.AuthorizationType, "CUSTOM");
      assert.deepEqual(connect.Properties.AuthorizerId, { Ref: authorizerId });
      assert.deepEqual(routes.map((r) => r.Properties.RouteKey).sort(), [
        "$connect",
        "$default",
        "$disconnect",
        "sync",
      ]);
      for (const route of routes.filter((r) => r !== connect))
        assert.equal(route.Properties.AuthorizationType ?? "NONE", "NONE", "API Gateway authorizes $connect only");
      const mayInvoke = Object.values(resources).filter(
        (r) =>
          r.Type === "AWS::Lambda::Permission" &&
          JSON.stringify(r.Properties.FunctionName).includes(functionLogicalId("wsAuthorize")),
      );
      assert.equal(mayInvoke.length, 1, "API Gateway may invoke the authorizer");
    });
  },
);

describe("stage settings", () => {
  it("keeps the local stage at zero configuration, with today's defaults", () => {
    const local = localParams({});
    assert.equal(local.ordersDatabaseUrl, "postgres://postgres@127.0.0.1:55432/orders");
    assert.equal(local.paymentsDatabaseUrl, "postgres://postgres@127.0.0.1:55433/payments");
    assert.equal(local.websocketEndpoint, "http://127.0.0.1:3001");
    assert.equal(local.vpc, null);
    assert.equal(local.kafkaAuth, "");
    assert.equal(
      localParams({ WEBSOCKET_ENDPOINT: "http://127.0.0.1:4001" }).websocketEndpoint,
      "http://127.0.0.1:4001",
    );
    assert.deepEqual(stageParams({ serviceDir: ROOT, stage: "dev", region: "us-east-1", env: {} }), local);
  });

  it("accepts the sample stage file as it is", () => {
    const parsed = awsStageFile.safeParse(SAMPLE);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  });

  it("names the missing file, or each missing or malformed setting, instead of deploying localhost", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gozon-stage-"));
    try {
      assert.throws(
        () => stageParams({ serviceDir: dir, stage: "staging", region: "us-east-1", env: {} }),
        /no settings file .*stages\/staging\.yml/,
      );
      await mkdir(path.join(dir, "stages"));
      await writeFile(
        path.join(dir, "stages/staging.yml"),
        "kafkaAuth: scram\nsubnetIds: []\nordersDatabaseUrl: postgres://orders_app@db.example.com:5432/orders\n",
      );
      assert.throws(
        () => stageParams({ serviceDir: dir, stage: "staging", region: "us-east-1", env: {} }),
        (error: Error) => {
          for (const named of [
            "mskClusterArn",
            "kafkaAuth",
            "subnetIds",
            "securityGroupIds",
            "ordersDatabasePasswordSecret",
            "paymentsDatabaseUrl",
            "paymentsDatabasePasswordSecret",
          ])
            assert.match(error.message, new RegExp(`- ${named}\\b`));
          assert.doesNotMatch(error.message, /- ordersDatabaseUrl\b/);
          return true;
        },
      );
      await writeFile(
        path.join(dir, "stages/staging.yml"),
        await readFile(path.join(ROOT, "stages/prod.sample.yml"), "utf8"),
      );
      assert.throws(
        () => stageParams({ serviceDir: dir, stage: "staging", region: "eu-west-1", env: {} }),
        /mskClusterArn is in us-east-1, the stage deploys to eu-west-1/,
      );
      const sample = await readFile(path.join(ROOT, "stages/prod.sample.yml"), "utf8");
      const staging = async (text: string) => {
        await writeFile(path.join(dir, "stages/staging.yml"), text);
        return () => stageParams({ serviceDir: dir, stage: "staging", region: "us-east-1", env: {} });
      };
      assert.throws(
        await staging(sample.replace("postgres://orders_app@", "postgres://orders_app:hunter2@")),
        /- ordersDatabaseUrl \([^)]*\): holds a password: remove it/,
      );
      assert.throws(
        await staging(sample.replace(/secret:gozon\/prod\/orders-db-Ab12Cd/, "secret:gozon/prod/orders-db")),
        /- ordersDatabasePasswordSecret \([^)]*\): not a secret's full ARN/,
      );
      assert.throws(
        await staging(sample.replace("secretsmanager:us-east-1", "secretsmanager:eu-west-1")),
        /ordersDatabasePasswordSecret is in eu-west-1, the stage deploys to us-east-1/,
      );
      assert.throws(
        await staging(`${sample}\nordersDatabaseSecret: gozon/prod/orders-db\n`),
        /ordersDatabaseSecret is replaced by ordersDatabaseUrl \(without a password\) and ordersDatabasePasswordSecret/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stops `sls package` with the setting's name when the stage file lacks it", { timeout: 120_000 }, async () => {
    const dir = await serviceCopy();
    try {
      const sample = await readFile(path.join(dir, "stages/prod.sample.yml"), "utf8");
      await writeFile(path.join(dir, "stages/prod.yml"), sample.replace(/^mskClusterArn:.*$/m, ""));
      const result = await sls(dir, ["package", "--stage", "prod", "--package", path.join(dir, "out")], LEAKY_SHELL);
      assert.equal(result.ok, false);
      assert.match(result.output, /stages\/prod\.yml \(stage "prod"\) is not a complete stage configuration/);
      assert.match(result.output, /- mskClusterArn \(the MSK cluster's ARN[^)]*\): missing/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a manifest whose wiring cannot work: a writer on two databases, an outbox no function relays, two readers of a topic sharing an inbox", () => {
    const params = {
      mskClusterArn: CLUSTER,
      kafkaAuth: "iam" as const,
      kafkaBrokers: "",
      vpc: null,
      ordersDatabasePasswordSecret: "",
      paymentsDatabasePasswordSecret: "",
      databaseSecretKeys: {},
    };
    const roles = (functions: Record<string, FunctionSpec>) => () =>
      functionRoles({ service: "s", stage: "p", params, functions });
    const { paymentsOutboxRelay: _relay, ...withoutRelay } = MANIFEST;
    assert.throws(roles(withoutRelay), /deposit writes the payments outbox, which no function relays/);
    assert.throws(
      roles({ ...MANIFEST, deposit: { ...MANIFEST.deposit, databases: ["orders", "payments"] } }),
      /deposit writes an outbox or reads a topic, so it names exactly one database/,
    );
    assert.throws(
      roles({
        ...MANIFEST,
        auditOrders: { ...MANIFEST.onOrderCreated, trigger: { topic: "orders.created", group: "g" } },
      }),
      /orders\.created: onOrderCreated and auditOrders would share the payments inbox/,
    );
    assert.doesNotThrow(roles(MANIFEST));
  });
});
