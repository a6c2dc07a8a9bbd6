/** The Kafka event sources and the relays' topics, with the IAM access each needs. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { roleLogicalId } from "../../../deploy/roles/naming.ts";
import { mskResourceArn } from "../../../deploy/roles/statements.ts";
import { ALL_TOPICS, TOPICS } from "../../../shared/contract/events.ts";
import { FUNCTIONS, specOf } from "./expected.ts";
import { CLUSTER } from "./service.ts";
import { readerOf, type PackagedTemplate } from "./template.ts";

export function kafkaTests(t: PackagedTemplate): void {
  const { env, statements, sid, mappings, consumerOf } = readerOf(t);

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
}
