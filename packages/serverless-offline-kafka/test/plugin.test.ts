import assert from "node:assert/strict";
import { describe, it } from "node:test";
import KafkaEventSourcePlugin from "../src/index.cjs";

type Events = Array<Record<string, Record<string, unknown>>>;

/** Just the parts of the framework's objects the plugin reads. */
function plugin(
  functions: Record<string, Events>,
  mappings: Record<string, Record<string, unknown>> = {},
  resources: Record<string, unknown> = {},
) {
  const serverless = {
    service: {
      service: "shop",
      custom: { kafkaEventSource: { mappings } },
      provider: { compiledCloudFormationTemplate: { Resources: resources } },
      getAllFunctions: () => Object.keys(functions),
      getFunction: (key: string) => ({ name: `shop-dev-${key}`, events: functions[key] }),
    },
    getProvider: () => ({
      naming: { getLambdaLogicalId: (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction` },
    }),
  };
  return new KafkaEventSourcePlugin(serverless as never, {}, { log: { warning: () => undefined } });
}

const SETTINGS = {
  MaximumRetryAttempts: 5,
  BisectBatchOnFunctionError: true,
  DestinationConfig: { OnFailure: { Destination: "kafka://orders.dlt" } },
};

describe("the plugin", () => {
  it("finds every enabled msk and kafka event, with AWS's defaults and the function's settings", () => {
    const found = plugin(
      {
        charge: [
          {
            msk: {
              arn: "arn:aws:kafka:us-east-1:000000000000:cluster/c/1",
              topic: "orders",
              consumerGroupId: "charges",
              batchSize: 10,
              startingPosition: "TRIM_HORIZON",
            },
          },
        ],
        audit: [
          { kafka: { topic: "orders", startingPosition: "LATEST", bootstrapServers: ["b:9092"] } },
          { kafka: { topic: "old", enabled: false } },
        ],
        ping: [{ httpApi: { path: "/ping" } }],
      },
      { charge: SETTINGS },
    ).mappings();
    assert.deepEqual(found, [
      {
        functionKey: "charge",
        functionName: "shop-dev-charge",
        source: { kind: "msk", arn: "arn:aws:kafka:us-east-1:000000000000:cluster/c/1" },
        topic: "orders",
        batchSize: 10,
        fromBeginning: true,
        groupId: "charges",
        settings: SETTINGS,
      },
      {
        functionKey: "audit",
        functionName: "shop-dev-audit",
        source: { kind: "kafka" },
        topic: "orders",
        batchSize: 100,
        fromBeginning: false,
        groupId: "shop-audit",
        settings: {},
      },
    ]);
  });

  it("writes each function's settings into its EventSourceMapping at package time, under AWS's names", () => {
    const own = { FunctionName: { "Fn::GetAtt": ["ChargeLambdaFunction", "Arn"] }, Topics: ["orders"], BatchSize: 10 };
    const mapping = { Type: "AWS::Lambda::EventSourceMapping", Properties: { ...own } };
    const other = {
      Type: "AWS::Lambda::EventSourceMapping",
      Properties: { FunctionName: { "Fn::GetAtt": ["AuditLambdaFunction", "Arn"] }, Topics: ["orders"] },
    };
    plugin(
      { charge: [{ msk: { arn: "arn", topic: "orders" } }] },
      { charge: SETTINGS },
      { mapping, other },
    ).mergeIntoTemplate();
    assert.deepEqual(mapping.Properties, { ...own, ...SETTINGS });
    assert.deepEqual(
      Object.keys(other.Properties),
      ["FunctionName", "Topics"],
      "another function's mapping is left alone",
    );
  });

  it("refuses to package when an event has no EventSourceMapping to carry its settings", () => {
    assert.throws(
      () => plugin({ charge: [{ msk: { arn: "arn", topic: "orders" } }] }, { charge: SETTINGS }).mergeIntoTemplate(),
      /no EventSourceMapping of charge for orders/,
    );
  });
});
