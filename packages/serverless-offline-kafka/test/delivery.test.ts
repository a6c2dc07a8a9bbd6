import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { SourceRecord } from "../src/lambda-event.js";
import { deliverPartition, type DeliveryPorts } from "../src/delivery.js";
import { errorHandlingOf, retryDelayMs, verdictOf } from "../src/error-handling.js";

const message = (offset: number, value = `{"n":${offset}}`, timestamp = Date.now()): SourceRecord =>
  ({
    offset: String(offset),
    value: Buffer.from(value),
    key: null,
    timestamp: String(timestamp),
    headers: {},
  }) as SourceRecord;

/**
 * The event source's handling of failures, driven with a scripted function (a real one, on a real
 * broker, is exercised by the end-to-end suites of the service that uses this package): what is
 * committed, retried and dead-lettered.
 */
function run(
  messages: SourceRecord[],
  settings: Parameters<typeof errorHandlingOf>[0],
  fails: (batch: number[]) => { functionError?: string; payload: string },
) {
  const log = {
    invocations: [] as number[][],
    commits: [] as string[],
    deadLetters: [] as Array<{ offsets: number[]; reason: string; attempts: number }>,
    waited: 0,
  };
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
    deadLetter: async (records, failure) =>
      void log.deadLetters.push({
        offsets: records.map((m) => Number(m.offset)),
        reason: failure.reason,
        attempts: failure.attempts,
      }),
    stillOwned: () => true,
    warn: () => undefined,
    sleep: async (ms) => void (log.waited += ms),
    now: Date.now,
  };
  return deliverPartition(messages, ports).then(() => log);
}

const failureAt = (offset: number) =>
  JSON.stringify({ batchItemFailures: [{ itemIdentifier: { partition: "orders.created-0", offset } }] });
const moneySafe = {
  MaximumRetryAttempts: 3,
  BisectBatchOnFunctionError: true,
  FunctionResponseTypes: ["ReportBatchItemFailures" as const],
  DestinationConfig: { OnFailure: { Destination: "kafka://orders.created.dlt" } },
};

describe("the Kafka event source's error handling, as AWS documents it", () => {
  it("commits a batch only once the function succeeded with it", async () => {
    const log = await run(
      [0, 1, 2].map((o) => message(o)),
      moneySafe,
      () => ({ payload: "null" }),
    );
    assert.deepEqual(log.invocations, [[0, 1, 2]]);
    assert.deepEqual(log.commits, ["3"]);
  });

  it("a record that fails every time: the ones before it are committed, it is isolated, retried, dead-lettered alone, and the partition moves on", async () => {
    const log = await run(
      [0, 1, 2, 3, 4, 5].map((o) => message(o)),
      moneySafe,
      (batch) =>
        batch.includes(2) ? { payload: failureAt(2) } : { payload: JSON.stringify({ batchItemFailures: [] }) },
    );
    assert.deepEqual(log.deadLetters, [{ offsets: [2], reason: "retries-exhausted", attempts: 4 }]);
    assert.deepEqual(
      log.invocations.filter((b) => b.length === 1 && b[0] === 2).length,
      4,
      "the first try and 3 retries",
    );
    assert.equal(log.commits.at(-1), "6", "everything after it was handled");
    assert.ok(log.invocations.some((b) => b.includes(5)));
  });

  it("without bisect the whole remaining batch is dead-lettered, which is why a consumer that must isolate a record turns it on", async () => {
    const log = await run(
      [0, 1, 2, 3].map((o) => message(o)),
      { ...moneySafe, BisectBatchOnFunctionError: false },
      (batch) => (batch.includes(1) ? { payload: failureAt(1) } : { payload: "null" }),
    );
    assert.deepEqual(
      log.deadLetters.map((d) => d.offsets),
      [[1, 2, 3]],
    );
  });

  it("a function error fails the whole batch; a transient one heals within the retries and nothing is dead-lettered", async () => {
    let failures = 2;
    const log = await run(
      [0, 1].map((o) => message(o)),
      { ...moneySafe, BisectBatchOnFunctionError: false },
      () =>
        failures-- > 0
          ? { functionError: "Unhandled", payload: '{"errorMessage":"database unavailable"}' }
          : { payload: "null" },
    );
    assert.deepEqual(log.deadLetters, []);
    assert.deepEqual(log.commits, ["2"]);
    assert.ok(log.waited > 0, "it backed off between retries");
  });

  it("an identifier it cannot read fails the whole batch, as on AWS", () => {
    const handling = errorHandlingOf(moneySafe, "orders.created");
    const verdict = verdictOf(
      { payload: JSON.stringify({ batchItemFailures: [{ itemIdentifier: "orders.created-0-1" }] }) },
      [message(0), message(1)],
      "orders.created",
      0,
      handling,
    );
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.from, "0");
  });

  it("records older than MaximumRecordAgeInSeconds go to the destination without an invocation", async () => {
    const old = Date.now() - 120_000;
    const log = await run([message(0, "{}", old), message(1)], { ...moneySafe, MaximumRecordAgeInSeconds: 60 }, () => ({
      payload: "null",
    }));
    assert.deepEqual(log.deadLetters, [{ offsets: [0], reason: "record-too-old", attempts: 0 }]);
    assert.deepEqual(log.invocations, [[1]]);
  });

  it("infinite retries with an on-failure destination are capped at 10; a destination must be a kafka:// topic other than the source", () => {
    assert.equal(errorHandlingOf({ ...moneySafe, MaximumRetryAttempts: -1 }, "orders.created").maxRetryAttempts, 10);
    assert.equal(errorHandlingOf({ MaximumRetryAttempts: -1 }, "orders.created").maxRetryAttempts, -1);
    assert.throws(() =>
      errorHandlingOf(
        { DestinationConfig: { OnFailure: { Destination: "kafka://orders.created" } } },
        "orders.created",
      ),
    );
    assert.throws(() =>
      errorHandlingOf({ DestinationConfig: { OnFailure: { Destination: "arn:aws:sqs:x" } } }, "orders.created"),
    );
  });

  it("without a destination a batch that keeps failing is dropped after its retries, committed, and the partition moves on", async () => {
    const log = await run(
      [0, 1].map((o) => message(o)),
      { MaximumRetryAttempts: 1 },
      (batch) => (batch.includes(0) ? { functionError: "Unhandled", payload: "{}" } : { payload: "null" }),
    );
    assert.deepEqual(
      log.invocations,
      [
        [0, 1],
        [0, 1],
      ],
      "the first try and 1 retry",
    );
    assert.deepEqual(log.deadLetters, []);
    assert.deepEqual(log.commits, ["2"]);
  });

  it("AWS's defaults: no bisecting, no partial batch responses, records never expire", () => {
    assert.deepEqual(errorHandlingOf(undefined, "t"), {
      maxRetryAttempts: -1,
      bisect: false,
      maxRecordAgeMs: Infinity,
      reportBatchItemFailures: false,
      onFailureTopic: undefined,
    });
    const handling = errorHandlingOf({}, "t");
    assert.deepEqual(
      verdictOf({ payload: failureAt(0) }, [message(0)], "orders.created", 0, handling),
      { ok: true },
      "batchItemFailures mean nothing unless reported ones are asked for",
    );
  });

  it("a partial batch response names the partition as AWS does, or by its number; the lowest offset wins", () => {
    const handling = errorHandlingOf(moneySafe, "orders.created");
    const batch = [message(5), message(6), message(7)];
    const answer = (ids: unknown[]) => ({
      payload: JSON.stringify({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) }),
    });
    assert.deepEqual(
      verdictOf(
        answer([
          { partition: 0, offset: "7" },
          { partition: "0", offset: 6 },
        ]),
        batch,
        "orders.created",
        0,
        handling,
      ),
      { ok: false, from: "6", error: "the function reported record 6 as failed" },
    );
    assert.equal(
      verdictOf(answer([{ partition: "orders.created-1", offset: 6 }]), batch, "orders.created", 0, handling).ok,
      false,
      "another partition's identifier is unreadable here",
    );
    assert.deepEqual(
      verdictOf({ payload: JSON.stringify({ batchItemFailures: [] }) }, batch, "orders.created", 0, handling),
      { ok: true },
    );
    assert.deepEqual(verdictOf({ payload: "not json" }, batch, "orders.created", 0, handling), {
      ok: false,
      from: "5",
      error: "the function's answer is not JSON",
    });
  });

  it("backs off from half a second, doubling, up to 10 s", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(retryDelayMs), [500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });
});
