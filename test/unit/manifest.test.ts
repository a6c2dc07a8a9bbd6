import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { serverlessFunctions } from "../../deploy/functions.ts";
import { functionRoles } from "../../deploy/roles.ts";
import { ALL_TOPICS } from "../../shared/contract/events.ts";
import { FUNCTIONS, type FunctionSpec } from "../../shared/contract/manifest.ts";
import { consumersOf, manifestProblems, topicOf } from "../../shared/contract/topology.ts";

/**
 * The manifest (shared/contract/manifest.ts) against what is written outside it: the handler files,
 * the inbox SQL of the consumers' domain code, and the topic lists that are not TypeScript
 * (docker-compose.yml's is checked in docker-compose.test.ts).
 */

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const entries = Object.entries(FUNCTIONS as Record<string, FunctionSpec>);
const fileOf = (spec: FunctionSpec) => `${spec.handler.slice(0, spec.handler.lastIndexOf("."))}.ts`;

describe("the manifest", () => {
  it("is sound: every outbox relayed, one database per writer and reader, no shared consumer group or inbox", () => {
    assert.deepEqual(manifestProblems(), []);
  });

  it("names a handler file for every function, and each consumer and relay takes its options from its own entry", () => {
    for (const [key, spec] of entries) {
      const source = read(fileOf(spec));
      const exported = spec.handler.slice(spec.handler.lastIndexOf(".") + 1);
      assert.match(source, new RegExp(`export const ${exported}\\b`), `${fileOf(spec)} exports ${exported}`);
      const named = [...source.matchAll(/FUNCTIONS\.(\w+)/g)].map((m) => m[1]);
      assert.ok(
        named.every((n) => n === key),
        `${fileOf(spec)} reads only its own entry (${key}), not ${named.join(", ")}`,
      );
      if (topicOf(spec) || spec.relaysOutbox)
        assert.ok(named.includes(key), `${fileOf(spec)} takes its topic and database from FUNCTIONS.${key}`);
    }
  });

  it("has each consumed topic's inbox row written by its domain code, and no inbox row for a topic nobody reads", () => {
    const files = readdirSync(path.join(ROOT, "shared"), { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".ts"),
    );
    const inboxTopics = files.flatMap((file) =>
      [
        ...read(path.join("shared", file)).matchAll(
          /INSERT INTO inbox \(event_id, topic\) VALUES \(\$\d+, '([^']+)'\)/g,
        ),
      ].map((m) => m[1]!),
    );
    const consumed = [...new Set(entries.flatMap(([, spec]) => topicOf(spec) ?? []))];
    assert.deepEqual([...new Set(inboxTopics)].sort(), [...consumed].sort());
  });

  it("lists every topic in the LocalStack init script's kafka-topics parameter", () => {
    const script = read("localstack/init/ready.d/10-resources.sh");
    const listed = /kafka-topics" StringList "([^"]+)"/.exec(script)?.[1]?.split(",");
    assert.deepEqual([...(listed ?? [])].sort(), [...ALL_TOPICS].sort());
  });

  it("turns a schedule trigger into an EventBridge schedule, with a role of logs and its databases' secrets", () => {
    const functions: Record<string, FunctionSpec> = {
      ...FUNCTIONS,
      sampleMetrics: {
        handler: "functions/ops/sample-metrics.handler",
        does: "ops: samples outbox backlog and consumer lag",
        trigger: { schedule: "rate(1 minute)" },
        databases: ["orders", "payments"],
        probesBrokers: true,
        reservedConcurrency: 1,
      },
    };
    const made = serverlessFunctions(
      { mskClusterArn: "arn", databaseEnvironment: { orders: { ORDERS: "o" }, payments: { PAYMENTS: "p" } } },
      functions,
    ).sampleMetrics!;
    assert.deepEqual(made.events, [{ schedule: "rate(1 minute)" }]);
    assert.deepEqual(made.environment, { ORDERS: "o", PAYMENTS: "p" });
    assert.equal(made.reservedConcurrency, 1);
    assert.equal(made.role, "SampleMetricsRole");
    const role = functionRoles({
      service: "s",
      stage: "p",
      params: {
        mskClusterArn: "arn:aws:kafka:us-east-1:123456789012:cluster/c/u",
        kafkaAuth: "iam",
        kafkaBrokers: "",
        vpc: null,
        ordersDatabasePasswordSecret: "o-secret",
        paymentsDatabasePasswordSecret: "p-secret",
        databaseSecretKeys: {},
      },
      functions,
    }).Resources.SampleMetricsRole as {
      Properties: { Policies: Array<{ PolicyDocument: { Statement: Array<{ Sid: string }> } }> };
    };
    assert.deepEqual(role.Properties.Policies[0]!.PolicyDocument.Statement.map((s) => s.Sid).sort(), [
      "ConnectToCluster",
      "MskControlPlane",
      "ReadDatabasePassword",
      "WriteOwnLogs",
    ]);
  });

  it("gives every topic one consumer per database at most (the inbox is keyed by event id)", () => {
    for (const topic of new Set(ALL_TOPICS.filter((t) => !t.endsWith(".dlt")))) {
      const databases = consumersOf(topic as Parameters<typeof consumersOf>[0]).map((c) => c.database);
      assert.equal(new Set(databases).size, databases.length, topic);
    }
  });
});
