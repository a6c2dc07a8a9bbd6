import { deadLetterTopic, type Topic } from "../shared/contract/events.ts";
import { PROBES_BROKERS, PUSHES_FRAMES, SAMPLES_OFFSETS, TOPOLOGY } from "../shared/contract/topology.ts";
import type { Database } from "../shared/contract/topology.ts";
import { DATABASES, databasesOf } from "./limits.ts";
import { passwordSecretOf, stageParams, type StageParams } from "./stage-settings.ts";

/**
 * One IAM role per function, holding only what that function does (serverless.yml sets each
 * function's `role:` to the logical id made here). What a function does is not restated here: it
 * is derived (accessOf) from the shop's wiring (shared/contract/topology.ts) and from serverless.yml:
 * its database (its environment), its `msk` event (topic, consumer group) and
 * `custom.kafkaEventSource.mappings` (its dead-letter topic).
 *
 * Every role may write its own log group, and, inside a VPC, manage the network interfaces Lambda
 * needs there. Beyond that:
 * - `invokes`: the outbox relays it wakes after a commit (an asynchronous invoke; a relay asks for
 *   its own next run while the broker is away),
 * - `pushes`: it posts frames to connections of this stage's WebSocket API, and only that API,
 * - `publishes`: the topics it produces to (the relays: what their outbox holds, the dead letters
 *   of their database's consumers included),
 * - `probesKafka`: it connects to the cluster, nothing more (the health check),
 * - `samplesOffsets`: it describes every topic and consumer group, reading nothing (the metrics
 *   sampler: consumer lag and dead letters),
 * - an `msk` event: what Lambda's event source mapping needs with this role (MSK's control plane,
 *   the VPC, and with IAM access control: read its topic, commit as its group, write its
 *   on-failure topic).
 * - its database(s): read the secret holding that database's password (its only secret), and
 *   decrypt it with the stage's customer managed key for it, if one is named, through Secrets
 *   Manager only.
 * With kafkaAuth "iam", MSK authorizes each Kafka request against these `kafka-cluster:` actions.
 */

/** What a function's role must allow beyond its logs and its event source: derived by accessOf. */
interface Access {
  invokes: string[];
  pushes: boolean;
  publishes: string[];
  probesKafka: boolean;
  samplesOffsets: boolean;
}

/** Each database's outbox relay, as serverless.yml names it. */
const relayOf = (database: Database): string => `${database}OutboxRelay`;

const mskEventsOf = (fn: FunctionConfig): MskEvent[] => (fn.events ?? []).flatMap((e) => (e.msk ? [e.msk] : []));

/**
 * What a function may do, from the wiring (shared/contract/topology.ts) and serverless.yml (its
 * database and event source): a function that writes an outbox (a topic's writer, or a consumer,
 * which dead-letters through it) wakes its database's relay; a relay wakes itself again and
 * publishes what its database's functions write, with the dead letters of its database's consumers.
 */
export function accessOf(functionKey: string, functions: Record<string, FunctionConfig>): Access {
  const fn = functions[functionKey]!;
  const [database] = databasesOf(fn);
  const writes = (key: string) => Object.values(TOPOLOGY).some((t) => t.writtenBy.includes(key));
  const relayFor = DATABASES.find((d) => relayOf(d) === functionKey);
  const ofDatabase = (d: Database) => Object.keys(functions).filter((key) => databasesOf(functions[key]!).includes(d));
  const publishes = relayFor
    ? [
        ...(Object.entries(TOPOLOGY) as Array<[Topic, (typeof TOPOLOGY)[Topic]]>)
          .filter(([, t]) => t.writtenBy.some((key) => ofDatabase(relayFor).includes(key)))
          .map(([topic]) => topic),
        ...ofDatabase(relayFor).flatMap((key) => mskEventsOf(functions[key]!).map((e) => deadLetterTopic(e.topic))),
      ]
    : [];
  const wakesRelay = database !== undefined && (writes(functionKey) || mskEventsOf(fn).length > 0);
  return {
    invokes: relayFor ? [functionKey] : wakesRelay ? [relayOf(database)] : [],
    pushes: PUSHES_FRAMES.includes(functionKey),
    publishes,
    probesKafka: PROBES_BROKERS.includes(functionKey),
    samplesOffsets: SAMPLES_OFFSETS.includes(functionKey),
  };
}

/** Every function the wiring names is one of serverless.yml's, and a writer has one database. */
function checkWiring(functions: Record<string, FunctionConfig>): void {
  const named = [
    ...Object.values(TOPOLOGY).flatMap((t) => [...t.writtenBy, t.consumer.function]),
    ...PUSHES_FRAMES,
    ...PROBES_BROKERS,
    ...SAMPLES_OFFSETS,
  ];
  const unknown = [...new Set(named)].filter((key) => !(key in functions));
  if (unknown.length)
    throw new Error(`shared/contract/topology.ts names ${unknown.join(", ")}, which serverless.yml does not define`);
  for (const key of new Set(Object.values(TOPOLOGY).flatMap((t) => t.writtenBy))) {
    if (databasesOf(functions[key]!).length !== 1)
      throw new Error(`serverless.yml: ${key} writes an outbox, so its environment names exactly one database`);
  }
}

interface MskEvent {
  arn: string;
  topic: string;
  consumerGroupId?: string;
}

export interface FunctionConfig {
  name?: string;
  role?: string;
  environment?: Record<string, unknown>;
  events?: Array<{ msk?: MskEvent } & Record<string, unknown>>;
}

interface MappingSettings {
  DestinationConfig?: { OnFailure?: { Destination?: string } };
}

export interface RolesInput {
  service: string;
  stage: string;
  params: Pick<
    StageParams,
    | "mskClusterArn"
    | "kafkaAuth"
    | "kafkaBrokers"
    | "vpc"
    | "ordersDatabasePasswordSecret"
    | "paymentsDatabasePasswordSecret"
    | "databaseSecretKeys"
  >;
  functions: Record<string, FunctionConfig>;
  mappings: Record<string, MappingSettings>;
}

type Statement = { Sid: string; Effect: "Allow"; Action: string[]; Resource: unknown; Condition?: unknown };

export const roleLogicalId = (functionKey: string): string =>
  `${functionKey[0]!.toUpperCase()}${functionKey.slice(1)}Role`;

const ref = (name: string) => ({ Ref: name });
/** arn:<partition>:<service>:<region>:<account>:<resource>, from the stack's own pseudo parameters. */
const arnHere = (service: string, resource: string) => ({
  "Fn::Join": [":", ["arn", ref("AWS::Partition"), service, ref("AWS::Region"), ref("AWS::AccountId"), resource]],
});

/** MSK names a topic or group of a cluster after the cluster: …:cluster/<name>/<uuid> -> …:topic/<name>/<uuid>/<topic>. */
export function mskResourceArn(clusterArn: string, kind: "topic" | "group", name: string): string {
  const match = /^(arn:[^:]+:kafka:[^:]+:[^:]+):cluster\/([^/]+\/[^/]+)$/.exec(clusterArn);
  if (!match) throw new Error(`not an MSK cluster ARN: ${clusterArn}`);
  return `${match[1]}:${kind}/${match[2]}/${name}`;
}

const statement = (Sid: string, Action: string[], Resource: unknown): Statement => ({
  Sid,
  Effect: "Allow",
  Action,
  Resource,
});

function statementsOf(functionKey: string, fn: FunctionConfig, input: RolesInput): Statement[] {
  const { service, stage, params } = input;
  const access = accessOf(functionKey, input.functions);
  const functionName = fn.name ?? `${service}-${stage}-${functionKey}`;
  const iam = params.kafkaAuth === "iam";
  const cluster = params.mskClusterArn;
  const consumes = mskEventsOf(fn);
  const usesKafka = consumes.length > 0 || access.publishes.length > 0 || access.probesKafka || access.samplesOffsets;
  const statements: Statement[] = [
    statement(
      "WriteOwnLogs",
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      arnHere("logs", `log-group:/aws/lambda/${functionName}:*`),
    ),
  ];

  // Lambda creates the function's network interfaces with its role; the MSK event source mapping
  // describes the cluster's VPC with it. Neither accepts narrower resources than "*".
  const network = [
    ...(params.vpc
      ? [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ]
      : []),
    ...(consumes.length
      ? [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeVpcs",
          "ec2:DeleteNetworkInterface",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
        ]
      : []),
  ];
  if (network.length) statements.push(statement("NetworkInterfaces", [...new Set(network)], "*"));

  // The password of each database it uses, read at run time (shared/db/secret-password.ts); none
  // where the URL holds it (locally).
  const databases = databasesOf(fn).filter((database) => passwordSecretOf(params, database) !== "");
  if (databases.length) {
    statements.push(
      statement(
        "ReadDatabasePassword",
        ["secretsmanager:GetSecretValue"],
        databases.map((database) => passwordSecretOf(params, database)),
      ),
    );
    const keys = databases.flatMap((database) => params.databaseSecretKeys[database] ?? []);
    if (keys.length) {
      statements.push({
        ...statement("DecryptDatabasePassword", ["kms:Decrypt"], [...new Set(keys)]),
        Condition: { StringEquals: { "kms:ViaService": { "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com" } } },
      });
    }
  }

  if (access.invokes.length) {
    statements.push(
      statement(
        "WakeOutboxRelay",
        ["lambda:InvokeFunction"],
        access.invokes.map((relay) => arnHere("lambda", `function:${service}-${stage}-${relay}`)),
      ),
    );
  }
  if (access.pushes) {
    statements.push(
      statement("PushToThisApiConnections", ["execute-api:ManageConnections"], {
        "Fn::Join": [
          "",
          [
            "arn:",
            ref("AWS::Partition"),
            ":execute-api:",
            ref("AWS::Region"),
            ":",
            ref("AWS::AccountId"),
            ":",
            ref("WebsocketsApi"),
            `/${stage}/POST/@connections/*`,
          ],
        ],
      }),
    );
  }

  // MSK's control plane: the event source mapping describes the cluster; a client without
  // KAFKA_BROKERS asks it for the brokers.
  const controlPlane = [
    ...(consumes.length ? ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"] : []),
    ...(usesKafka && !params.kafkaBrokers ? ["kafka:GetBootstrapBrokers"] : []),
  ];
  if (controlPlane.length) statements.push(statement("MskControlPlane", [...new Set(controlPlane)], cluster));

  if (iam && usesKafka) {
    const onCluster = [
      "kafka-cluster:Connect",
      ...(consumes.length ? ["kafka-cluster:DescribeClusterDynamicConfiguration"] : []),
      ...(access.publishes.length ? ["kafka-cluster:WriteDataIdempotently"] : []),
    ];
    statements.push(statement("ConnectToCluster", onCluster, cluster));
    for (const [i, event] of consumes.entries()) {
      const n = consumes.length > 1 ? String(i + 1) : ""; // Sids are unique within a policy
      if (event.arn !== cluster)
        throw new Error(`${functionKey}: its msk event names ${event.arn}, the stage's cluster is ${cluster}`);
      if (!event.consumerGroupId)
        throw new Error(`${functionKey}: its msk event needs a consumerGroupId, which its role is scoped to`);
      statements.push(
        statement(
          `ReadSourceTopic${n}`,
          ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
          mskResourceArn(cluster, "topic", event.topic),
        ),
      );
      statements.push(
        statement(
          `CommitAsConsumerGroup${n}`,
          ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
          mskResourceArn(cluster, "group", event.consumerGroupId),
        ),
      );
      const destination = input.mappings[functionKey]?.DestinationConfig?.OnFailure?.Destination;
      if (destination?.startsWith("kafka://")) {
        statements.push(
          statement(
            `WriteOnFailureTopic${n}`,
            ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
            mskResourceArn(cluster, "topic", destination.slice("kafka://".length)),
          ),
        );
      }
    }
    if (access.publishes.length) {
      statements.push(
        statement(
          "PublishOutboxTopics",
          ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
          access.publishes.map((topic) => mskResourceArn(cluster, "topic", topic)),
        ),
      );
    }
    if (access.samplesOffsets) {
      const topics = (Object.keys(TOPOLOGY) as Topic[]).flatMap((topic) => [topic, deadLetterTopic(topic)]);
      statements.push(
        statement(
          "DescribeTopicsAndGroups",
          ["kafka-cluster:DescribeTopic", "kafka-cluster:DescribeGroup"],
          [
            ...topics.map((topic) => mskResourceArn(cluster, "topic", topic)),
            ...Object.values(TOPOLOGY).map(({ consumer }) => mskResourceArn(cluster, "group", consumer.group)),
          ],
        ),
      );
    }
  }
  return statements;
}

/** `resources` for serverless.yml: one AWS::IAM::Role per function. */
export function functionRoles(input: RolesInput): { Resources: Record<string, unknown> } {
  const keys = Object.keys(input.functions);
  for (const key of keys) {
    const role = input.functions[key]!.role;
    if (role !== roleLogicalId(key))
      throw new Error(`serverless.yml: function ${key} needs \`role: ${roleLogicalId(key)}\` (got ${role ?? "none"})`);
  }
  checkWiring(input.functions);
  const Resources: Record<string, unknown> = {};
  for (const key of keys) {
    Resources[roleLogicalId(key)] = {
      Type: "AWS::IAM::Role",
      Properties: {
        Description: `${input.service} ${input.stage} ${key}: only what this function does (deploy/roles.ts)`,
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com"] }, Action: ["sts:AssumeRole"] },
          ],
        },
        Policies: [
          {
            PolicyName: key,
            PolicyDocument: { Version: "2012-10-17", Statement: statementsOf(key, input.functions[key]!, input) },
          },
        ],
      },
    };
  }
  return { Resources };
}

interface VariableSourceContext {
  resolveVariable(variable: string): Promise<unknown>;
  resolveConfigurationProperty(path: string[]): Promise<unknown>;
}

/** The `${file(./deploy/roles.cjs)}` entry point, under serverless.yml's `resources`. */
export default async function resolve({ resolveVariable, resolveConfigurationProperty }: VariableSourceContext) {
  const [service, stage, region, functions, mappings] = await Promise.all([
    resolveVariable("self:service"),
    resolveVariable("sls:stage"),
    resolveVariable("self:provider.region"),
    resolveConfigurationProperty(["functions"]),
    resolveConfigurationProperty(["custom", "kafkaEventSource", "mappings"]),
  ]);
  return functionRoles({
    service: String(service),
    stage: String(stage),
    params: stageParams({ serviceDir: process.cwd(), stage: String(stage), region: String(region) }),
    functions: (functions ?? {}) as Record<string, FunctionConfig>,
    mappings: (mappings ?? {}) as Record<string, MappingSettings>,
  });
}
