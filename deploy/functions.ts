import { deadLetterTopic } from "../shared/contract/events.ts";
import { FUNCTIONS, type Database, type FunctionSpec } from "../shared/contract/manifest.ts";
import { checkManifest, relayOf } from "../shared/contract/topology.ts";
import { DATABASES } from "./limits.ts";
import { roleLogicalId } from "./roles/naming.ts";

/**
 * serverless.yml's `functions` and each Kafka event source's failure settings, made from the
 * manifest (shared/contract/manifest.ts): a function is added there, never in serverless.yml.
 */

type Functions = Record<string, FunctionSpec>;

export interface ServerlessFunction {
  handler: string;
  role: string;
  environment?: Record<string, unknown>;
  timeout?: number;
  reservedConcurrency?: number;
  events: Array<Record<string, unknown>>;
}

export interface FunctionsInput {
  /** The stage's MSK cluster, which every `msk` event names. */
  mskClusterArn: unknown;
  /** serverless.yml's `custom.databaseEnvironment`: each database's variables, for the functions that use it. */
  databaseEnvironment: Record<Database, Record<string, unknown>>;
}

function eventsOf(spec: FunctionSpec, mskClusterArn: unknown): Array<Record<string, unknown>> {
  const trigger = spec.trigger;
  if ("http" in trigger) return trigger.http.map((route) => ({ httpApi: { ...route } }));
  if ("schedule" in trigger) return [{ schedule: trigger.schedule }];
  if ("topic" in trigger) {
    return [
      {
        msk: {
          arn: mskClusterArn,
          topic: trigger.topic,
          consumerGroupId: trigger.group,
          batchSize: 100,
          startingPosition: "TRIM_HORIZON",
        },
      },
    ];
  }
  if ("websocket" in trigger) {
    return trigger.websocket.map(({ route, authorizer }) => ({
      websocket: {
        route,
        ...(authorizer && {
          authorizer: { name: authorizer.function, identitySource: [...authorizer.identitySource] },
        }),
      },
    }));
  }
  return []; // an authorizer: API Gateway calls it for the route that names it
}

/** serverless.yml's `functions`. */
export function serverlessFunctions(input: FunctionsInput, functions: Functions = FUNCTIONS) {
  checkManifest(functions);
  return Object.fromEntries(
    Object.entries(functions).map(([key, spec]): [string, ServerlessFunction] => [
      key,
      {
        handler: spec.handler,
        role: roleLogicalId(key),
        ...(spec.databases.length && {
          environment: Object.assign({}, ...spec.databases.map((d) => input.databaseEnvironment[d])) as Record<
            string,
            unknown
          >,
        }),
        ...(spec.timeout !== undefined && { timeout: spec.timeout }),
        ...(spec.reservedConcurrency !== undefined && { reservedConcurrency: spec.reservedConcurrency }),
        events: eventsOf(spec, input.mskClusterArn),
      },
    ]),
  );
}

/**
 * `custom.kafkaEventSource.mappings`: every consumer's event source mapping gets the failure
 * settings serverless.yml chose for all of them, with its topic's dead-letter topic as the
 * on-failure destination.
 */
export function eventSourceSettings(
  failureSettings: Record<string, unknown>,
  functions: Functions = FUNCTIONS,
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(functions).flatMap(([key, spec]) =>
      "topic" in spec.trigger
        ? [
            [
              key,
              {
                ...failureSettings,
                DestinationConfig: { OnFailure: { Destination: `kafka://${deadLetterTopic(spec.trigger.topic)}` } },
              },
            ],
          ]
        : [],
    ),
  );
}

interface VariableSourceContext {
  resolveVariable(variable: string): Promise<unknown>;
  resolveConfigurationProperty(path: string[]): Promise<unknown>;
}

/** `${file(./deploy/functions.cjs):functions}`, `…:mappings` and `…:relays.<database>`, in serverless.yml. */
export const fileSource = {
  /** Each database's outbox relay, by its key in the manifest: what a writer wakes after a commit. */
  relays: Object.fromEntries(DATABASES.map((database) => [database, relayOf(database)])),
  functions: async ({ resolveVariable, resolveConfigurationProperty }: VariableSourceContext) => {
    const [mskClusterArn, databaseEnvironment] = await Promise.all([
      resolveVariable("param:mskClusterArn"),
      resolveConfigurationProperty(["custom", "databaseEnvironment"]),
    ]);
    return serverlessFunctions({
      mskClusterArn,
      databaseEnvironment: databaseEnvironment as FunctionsInput["databaseEnvironment"],
    });
  },
  mappings: async ({ resolveConfigurationProperty }: VariableSourceContext) =>
    eventSourceSettings(
      ((await resolveConfigurationProperty(["custom", "kafkaEventSource", "failureSettings"])) ?? {}) as Record<
        string,
        unknown
      >,
    ),
};
