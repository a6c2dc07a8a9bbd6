import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lambdaEventFor } from "../src/lambda-event.js";

const KEY = "550e8400-e29b-41d4-a716-446655440000";
const VALUE = JSON.stringify({ id: "6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5", amount: 300 });

describe("the Kafka event handed to functions", () => {
  const event = lambdaEventFor(
    { kind: "msk", arn: "arn:aws:kafka:us-east-1:000000000000:cluster/demo/x" },
    ["127.0.0.1:9092"],
    "orders.created",
    2,
    [
      {
        key: Buffer.from(KEY),
        value: Buffer.from(VALUE),
        offset: "41",
        timestamp: "1764000000000",
        headers: { event_id: Buffer.from("e-1") },
      },
      {
        key: null,
        value: Buffer.from("{not json"),
        offset: "42",
        timestamp: "1764000000001",
        headers: {},
      },
    ],
  );

  it("is shaped as AWS sends it: records keyed topic-partition, base64 payloads, byte-array headers, ms timestamps", () => {
    assert.equal(event.eventSource, "aws:kafka");
    assert.equal(event.eventSourceArn, "arn:aws:kafka:us-east-1:000000000000:cluster/demo/x");
    assert.equal(event.bootstrapServers, "127.0.0.1:9092");
    assert.deepEqual(Object.keys(event.records), ["orders.created-2"]);
    const [first, second] = event.records["orders.created-2"]!;
    assert.equal(first!.key, Buffer.from(KEY).toString("base64"));
    assert.equal(Buffer.from(first!.value, "base64").toString(), VALUE);
    assert.equal(first!.offset, 41);
    assert.equal(first!.timestamp, 1764000000000);
    assert.equal(first!.timestampType, "CREATE_TIME");
    assert.deepEqual(first!.headers, [{ event_id: [...Buffer.from("e-1")] }]);
    assert.equal("key" in second!, false, "a null key is left out");
  });

  it("keeps every value of a repeated header, in order", () => {
    const [record] = lambdaEventFor({ kind: "kafka" }, ["a:9092"], "t", 0, [
      {
        key: null,
        value: null,
        offset: "0",
        timestamp: "0",
        headers: { h: [Buffer.from("1"), Buffer.from("2")] },
      },
    ]).records["t-0"]!;
    assert.deepEqual(record!.headers, [{ h: [0x31] }, { h: [0x32] }]);
    assert.equal(record!.value, "", "a null value is empty");
  });

  it("comes from SelfManagedKafka, without an ARN, for a kafka event", () => {
    const self = lambdaEventFor({ kind: "kafka" }, ["a:9092", "b:9092"], "t", 0, []);
    assert.equal(self.eventSource, "SelfManagedKafka");
    assert.equal("eventSourceArn" in self, false);
    assert.equal(self.bootstrapServers, "a:9092,b:9092");
  });
});
