import { FUNCTIONS, type FunctionSpec } from "../shared/contract/manifest.ts";
import { checkManifest } from "../shared/contract/topology.ts";
import { roleLogicalId } from "./roles/naming.ts";
import { statementsOf, type RoleParams } from "./roles/statements.ts";
import { stageParams } from "./stage-settings.ts";

/**
 * One IAM role per function, holding only what that function does (serverless.yml's functions,
 * made by deploy/functions.ts, set each `role:` to the logical id made here). What a function does
 * is not restated here: it is derived (roles/access.ts) from its entry in the manifest
 * (shared/contract/manifest.ts): its database(s), its trigger (a topic and consumer group), the
 * topics it writes, whether it relays an outbox, pushes frames or probes the brokers.
 *
 * Every role may write its own log group, and, inside a VPC, manage the network interfaces Lambda
 * needs there. Beyond that:
 * - `invokes`: the outbox relays it wakes after a commit (an asynchronous invoke; a relay asks for
 *   its own next run while the broker is away),
 * - `pushes`: it posts frames to connections of this stage's WebSocket API, and only that API,
 * - `publishes`: the topics it produces to (the relays: what their outbox holds, the dead letters
 *   of their database's consumers included),
 * - `probesKafka`: it connects to the cluster, nothing more (the health check),
 * - a topic trigger: what Lambda's event source mapping needs with this role (MSK's control plane,
 *   the VPC, and with IAM access control: read its topic, commit as its group, write its
 *   on-failure topic).
 * - its database(s): read the secret holding that database's password (its only secret), and
 *   decrypt it with the stage's customer managed key for it, if one is named, through Secrets
 *   Manager only.
 * With kafkaAuth "iam", MSK authorizes each Kafka request against these `kafka-cluster:` actions.
 */

export interface RolesInput {
  service: string;
  stage: string;
  params: RoleParams;
  /** The manifest; the shop's own unless a test gives another. */
  functions?: Record<string, FunctionSpec>;
}

/** `resources` for serverless.yml: one AWS::IAM::Role per function. */
export function functionRoles(input: RolesInput): { Resources: Record<string, unknown> } {
  const functions = input.functions ?? FUNCTIONS;
  checkManifest(functions);
  const context = { ...input, functions };
  const Resources: Record<string, unknown> = {};
  for (const key of Object.keys(functions)) {
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
          { PolicyName: key, PolicyDocument: { Version: "2012-10-17", Statement: statementsOf(key, context) } },
        ],
      },
    };
  }
  return { Resources };
}

interface VariableSourceContext {
  resolveVariable(variable: string): Promise<unknown>;
}

/** The `${file(./deploy/roles.cjs)}` entry point, under serverless.yml's `resources`. */
export default async function resolve({ resolveVariable }: VariableSourceContext) {
  const [service, stage, region] = await Promise.all([
    resolveVariable("self:service"),
    resolveVariable("sls:stage"),
    resolveVariable("self:provider.region"),
  ]);
  return functionRoles({
    service: String(service),
    stage: String(stage),
    params: stageParams({ serviceDir: process.cwd(), stage: String(stage), region: String(region) }),
  });
}
