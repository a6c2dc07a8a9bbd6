import { deadLetterTopic, TOPICS, type Topic } from "../../shared/contract/events.ts";
import type { FunctionSpec } from "../../shared/contract/manifest.ts";
import { topicOf } from "../../shared/contract/topology.ts";
import { passwordSecretOf, type StageParams } from "../stage-params.ts";
import { accessOf } from "./access.ts";

export type RoleParams = Pick<
  StageParams,
  | "mskClusterArn"
  | "kafkaAuth"
  | "kafkaBrokers"
  | "vpc"
  | "ordersDatabasePasswordSecret"
  | "paymentsDatabasePasswordSecret"
  | "databaseSecretKeys"
>;

export interface RoleContext {
  service: string;
  stage: string;
  params: RoleParams;
  functions: Record<string, FunctionSpec>;
}

export type Statement = { Sid: string; Effect: "Allow"; Action: string[]; Resource: unknown; Condition?: unknown };

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

/** Lambda creates the function's network interfaces with its role; the MSK event source mapping describes the cluster's VPC with it. */
function networkActions(inVpc: boolean, consumes: boolean): string[] {
  return [
    ...(inVpc
      ? [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSubnets",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ]
      : []),
    ...(consumes
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
}

/** The password of each database it uses, read at run time (shared/db/secret-password.ts); none where the URL holds it (locally). */
function databaseSecretStatements(spec: FunctionSpec, params: RoleParams): Statement[] {
  const databases = spec.databases.filter((database) => passwordSecretOf(params, database) !== "");
  if (!databases.length) return [];
  const statements = [
    statement(
      "ReadDatabasePassword",
      ["secretsmanager:GetSecretValue"],
      databases.map((database) => passwordSecretOf(params, database)),
    ),
  ];
  const keys = databases.flatMap((database) => params.databaseSecretKeys[database] ?? []);
  if (keys.length) {
    statements.push({
      ...statement("DecryptDatabasePassword", ["kms:Decrypt"], [...new Set(keys)]),
      Condition: { StringEquals: { "kms:ViaService": { "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com" } } },
    });
  }
  return statements;
}

/** The statements of one function's role (see deploy/roles.ts for what each allows). */
export function statementsOf(functionKey: string, context: RoleContext): Statement[] {
  const { service, stage, params } = context;
  const spec = context.functions[functionKey]!;
  const access = accessOf(functionKey, context.functions);
  const iam = params.kafkaAuth === "iam";
  const cluster = params.mskClusterArn;
  const topic = topicOf(spec);
  const consumes = topic !== undefined;
  const usesKafka = consumes || access.publishes.length > 0 || access.probesKafka || access.samplesOffsets;
  const statements: Statement[] = [
    statement(
      "WriteOwnLogs",
      ["logs:CreateLogStream", "logs:PutLogEvents"],
      arnHere("logs", `log-group:/aws/lambda/${service}-${stage}-${functionKey}:*`),
    ),
  ];
  // Neither accepts narrower resources than "*".
  const network = networkActions(params.vpc !== null, consumes);
  if (network.length) statements.push(statement("NetworkInterfaces", [...new Set(network)], "*"));
  statements.push(...databaseSecretStatements(spec, params));

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
    ...(consumes ? ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"] : []),
    ...(usesKafka && !params.kafkaBrokers ? ["kafka:GetBootstrapBrokers"] : []),
  ];
  if (controlPlane.length) statements.push(statement("MskControlPlane", [...new Set(controlPlane)], cluster));

  if (iam && usesKafka) {
    const onCluster = [
      "kafka-cluster:Connect",
      ...(consumes ? ["kafka-cluster:DescribeClusterDynamicConfiguration"] : []),
      ...(access.publishes.length ? ["kafka-cluster:WriteDataIdempotently"] : []),
    ];
    statements.push(statement("ConnectToCluster", onCluster, cluster));
    if ("topic" in spec.trigger) {
      const { topic, group } = spec.trigger;
      statements.push(
        statement(
          "ReadSourceTopic",
          ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
          mskResourceArn(cluster, "topic", topic),
        ),
        statement(
          "CommitAsConsumerGroup",
          ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
          mskResourceArn(cluster, "group", group),
        ),
        // Its event source mapping's on-failure destination (deploy/functions.ts).
        statement(
          "WriteOnFailureTopic",
          ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
          mskResourceArn(cluster, "topic", deadLetterTopic(topic)),
        ),
      );
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
      const topics = (Object.keys(TOPICS) as Topic[]).flatMap((t) => [t, deadLetterTopic(t)]);
      const groups = Object.values(context.functions).flatMap((f) => ("group" in f.trigger ? [f.trigger.group] : []));
      statements.push(
        statement(
          "DescribeTopicsAndGroups",
          ["kafka-cluster:DescribeTopic", "kafka-cluster:DescribeGroup"],
          [
            ...topics.map((t) => mskResourceArn(cluster, "topic", t)),
            ...groups.map((group) => mskResourceArn(cluster, "group", group)),
          ],
        ),
      );
    }
  }
  return statements;
}
