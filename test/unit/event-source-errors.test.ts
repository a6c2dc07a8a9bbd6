import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KafkaMessage } from "kafkajs";
import { deliverPartition, type DeliveryPorts } from "../../local/kafka-event-source/delivery.ts";
import { errorHandlingOf, verdictOf } from "../../local/kafka-event-source/error-handling.ts";
import { decodeRecord } from "../../shared/messaging/records.ts";
import { orderCreatedV1 } from "../../shared/contract/events.ts";

const message = (offset: number, value = `{"n":${offset}}`, timestamp = Date.now()): KafkaMessage =>
  ({ offset: String(offset), value: Buffer.from(value), key: null, timestamp: String(timestamp), headers: {}, attributes: 0 }) as KafkaMessage;

/**
 * The event source's handling of failures, driven with a scripted function (the real one is
 * exercised by the end-to-end and fault suites): what is committed, retried and dead-lettered.
 */
function run(messages: KafkaMessage[], settings: Parameters<typeof errorHandlingOf>[0], fails: (batch: number[]) => { functionError?: string; payload: string }) {
  const log = { invocations: [] as number[][], commits: [] as string[], deadLetters: [] as Array<{ offsets: number[]; reason: string; attempts: number }>, waited: 0 };
  const ports: DeliveryPorts = {
    topic: "orders.created",
    partition: 0,
    batchSize: 10,
    handling: errorHandlingOf(settings, "orders.created"),
    invoke: async (batch) => {
      const offsets = batch.map((m) => Number(m.offset));
      log.invocations.push(offsets);
      return fails(offsets);
    },
    commit: async (next) => void log.commits.push(next),
    deadLetter: async (records, failure) => void log.deadLetters.push({ offsets: records.map((m) => Number(m.offset)), reason: failure.reason, attempts: failure.attempts }),
    heartbeat: async () => undefined,
    stillOwned: () => true,
    warn: () => undefined,
    sleep: async (ms) => void (log.waited += ms),
    now: Date.now,
  };
  return deliverPartition(messages, ports).then(() => log);
}

const failureAt = (offset: number) => JSON.stringify({ batchItemFailures: [{ itemIdentifier: { partition: "orders.created-0", offset } }] });
const moneySafe = {
  MaximumRetryAttempts: 3,
  BisectBatchOnFunctionError: true,
  FunctionResponseTypes: ["ReportBatchItemFailures" as const],
  DestinationConfig: { OnFailure: { Destination: "kafka://orders.created.dlt" } },
};

describe("the Kafka event source's error handling, as AWS documents it", () => {
  it("commits a batch only once the function succeeded with it", async () => {
    const log = await run([0, 1, 2].map((o) => message(o)), moneySafe, () => ({ payload: "null" }));
    assert.deepEqual(log.invocations, [[0, 1, 2]]);
    assert.deepEqual(log.commits, ["3"]);
  });

  it("a record that fails every time: the ones before it are committed, it is isolated, retried, dead-lettered alone, and the partition moves on", async () => {
    const log = await run([0, 1, 2, 3, 4, 5].map((o) => message(o)), moneySafe, (batch) =>
      batch.includes(2) ? { payload: failureAt(2) } : { payload: JSON.stringify({ batchItemFailures: [] }) },
    );
    assert.deepEqual(log.deadLetters, [{ offsets: [2], reason: "retries-exhausted", attempts: 4 }]);
    assert.deepEqual(log.invocations.filter((b) => b.length === 1 && b[0] === 2).length, 4, "the first try and 3 retries");
    assert.equal(log.commits.at(-1), "6", "everything after it was handled");
    assert.ok(log.invocations.some((b) => b.includes(5)));
  });

  it("without bisect the whole remaining batch is dead-lettered, which is why the shop turns it on", async () => {
    const log = await run([0, 1, 2, 3].map((o) => message(o)), { ...moneySafe, BisectBatchOnFunctionError: false }, (batch) =>
      batch.includes(1) ? { payload: failureAt(1) } : { payload: "null" },
    );
    assert.deepEqual(log.deadLetters.map((d) => d.offsets), [[1, 2, 3]]);
  });

  it("a function error fails the whole batch; a transient one heals within the retries and nothing is dead-lettered", async () => {
    let failures = 2;
    const log = await run([0, 1].map((o) => message(o)), { ...moneySafe, BisectBatchOnFunctionError: false }, () =>
      failures-- > 0 ? { functionError: "Unhandled", payload: '{"errorMessage":"database unavailable"}' } : { payload: "null" },
    );
    assert.deepEqual(log.deadLetters, []);
    assert.deepEqual(log.commits, ["2"]);
    assert.ok(log.waited > 0, "it backed off between retries");
  });

  it("an identifier it cannot read fails the whole batch, as on AWS", () => {
    const handling = errorHandlingOf(moneySafe, "orders.created");
    const verdict = verdictOf({ payload: JSON.stringify({ batchItemFailures: [{ itemIdentifier: "orders.created-0-1" }] }) }, [message(0), message(1)], "orders.created", 0, handling);
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.from, "0");
  });

  it("records older than MaximumRecordAgeInSeconds go to the destination without an invocation", async () => {
    const old = Date.now() - 120_000;
    const log = await run([message(0, "{}", old), message(1)], { ...moneySafe, MaximumRecordAgeInSeconds: 60 }, () => ({ payload: "null" }));
    assert.deepEqual(log.deadLetters, [{ offsets: [0], reason: "record-too-old", attempts: 0 }]);
    assert.deepEqual(log.invocations, [[1]]);
  });

  it("infinite retries with an on-failure destination are capped at 10; a destination must be a kafka:// topic other than the source", () => {
    assert.equal(errorHandlingOf({ ...moneySafe, MaximumRetryAttempts: -1 }, "orders.created").maxRetryAttempts, 10);
    assert.equal(errorHandlingOf({ MaximumRetryAttempts: -1 }, "orders.created").maxRetryAttempts, -1);
    assert.throws(() => errorHandlingOf({ DestinationConfig: { OnFailure: { Destination: "kafka://orders.created" } } }, "orders.created"));
    assert.throws(() => errorHandlingOf({ DestinationConfig: { OnFailure: { Destination: "arn:aws:sqs:x" } } }, "orders.created"));
  });
});

describe("poison records are recognised, never thrown", () => {
  const record = (value: Buffer) => ({ topic: "orders.created", partition: 0, offset: 0, timestamp: 0, key: null, headers: [], value });
  const cases: Array<[string, Buffer, RegExp]> = [
    ["NUL inside braces", Buffer.from([0x7b, 0x00, 0x7d]), /not JSON/],
    ["invalid UTF-8", Buffer.from([0xc3, 0x28, 0xff]), /not UTF-8/],
    ["not JSON", Buffer.from("hello"), /not JSON/],
    ["JSON of the wrong shape", Buffer.from("[1,2,3]"), /expected object/],
    ["a missing field", Buffer.from(JSON.stringify({ event_type: "OrderCreated" })), /event_id/],
    ["an escaped NUL in a description", Buffer.from(JSON.stringify({ description: "a\u0000b" })), /description: must not contain control characters/],
    ["empty", Buffer.alloc(0), /not JSON/],
    ["near the size limit", Buffer.alloc(900_000, 0x61), /not JSON/],
  ];
  for (const [what, value, error] of cases) {
    it(what, () => {
      const decoded = decodeRecord(record(value), orderCreatedV1);
      assert.equal(decoded.ok, false);
      assert.match(!decoded.ok ? decoded.error : "", error);
    });
  }
});
