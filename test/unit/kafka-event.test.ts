import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MSKEvent } from "aws-lambda";
import { lambdaEventFor } from "serverless-offline-kafka/lambda-event";
import { orderCreatedV1, type OrderCreated } from "../../shared/contract/events.ts";
import { decodeRecord, partitionsOf } from "../../shared/messaging/records.ts";

const USER = "550e8400-e29b-41d4-a716-446655440000";
const ORDER = "0b7e6a52-3c1e-4e55-9d3e-8f1b2a7c9d10";

describe("the Kafka event handed to functions", () => {
  const event: OrderCreated = {
    event_id: "6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5",
    event_type: "OrderCreated",
    event_version: 1,
    occurred_at: "2026-11-28T08:00:00.000Z",
    correlation_id: ORDER,
    order_id: ORDER,
    user_id: USER,
    amount: 300,
    description: "keyboard",
  };
  const lambdaEvent = lambdaEventFor(
    { kind: "msk", arn: "arn:aws:kafka:us-east-1:000000000000:cluster/gozon/x" },
    ["127.0.0.1:9092"],
    "orders.created",
    2,
    [
      {
        key: Buffer.from(USER),
        value: Buffer.from(JSON.stringify(event)),
        offset: "41",
        timestamp: "1764000000000",
        headers: { event_id: Buffer.from(event.event_id) },
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

  it("decodes back into validated events, and reports an unreadable record instead of throwing", () => {
    const [records] = partitionsOf(lambdaEvent as unknown as MSKEvent);
    assert.deepEqual(
      records!.map((r) => [r.partition, r.offset, r.key?.toString() ?? null]),
      [
        [2, 41, USER],
        [2, 42, null],
      ],
    );
    const good = decodeRecord(records![0]!, orderCreatedV1);
    assert.ok(good.ok);
    assert.equal(good.event.correlation_id, ORDER);
    const bad = decodeRecord(records![1]!, orderCreatedV1);
    assert.deepEqual(bad, { ok: false, error: "value is not JSON" });
  });

  it("rejects an event that breaks its topic's schema, naming the field", () => {
    const record = {
      topic: "orders.created",
      partition: 0,
      offset: 1,
      timestamp: 0,
      key: null,
      headers: [],
      value: Buffer.from(JSON.stringify({ ...event, amount: "300" })),
    };
    const decoded = decodeRecord(record, orderCreatedV1);
    assert.equal(decoded.ok, false);
    assert.match(!decoded.ok ? decoded.error : "", /^amount: /);
  });
});
