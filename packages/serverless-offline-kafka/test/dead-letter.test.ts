import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deadLetterOf, DLT_HEADER_PREFIX } from "../src/dead-letter.js";

const record = {
  topic: "orders.created",
  partition: 2,
  offset: 7,
  timestamp: 1764000000000,
  key: Buffer.from("k"),
  value: Buffer.from([0xc3, 0x28]),
  headers: [
    { name: "traceparent", value: Buffer.from("00-abc-def-01") },
    { name: "dlt-reason", value: Buffer.from("an earlier failure") },
  ],
};
const at = new Date("2026-12-01T10:00:00.000Z");

describe("a dead letter", () => {
  const letter = deadLetterOf(
    record,
    { reason: "retries-exhausted", error: "x".repeat(3_000), attempts: 6, functionName: "svc-dev-consume" },
    at,
  );
  const headers = Object.fromEntries(letter.headers.map((h) => [h.name, h.value.toString()]));

  it("is the record itself: key and value byte for byte, its own headers kept", () => {
    assert.equal(letter.key, record.key);
    assert.equal(letter.value, record.value);
    assert.equal(headers.traceparent, "00-abc-def-01");
  });

  it("says where and why it failed in dlt-* headers, replacing those of an earlier failure", () => {
    assert.deepEqual(
      letter.headers.filter((h) => h.name.startsWith(DLT_HEADER_PREFIX)).map((h) => h.name),
      [
        "dlt-source-topic",
        "dlt-source-partition",
        "dlt-source-offset",
        "dlt-source-timestamp",
        "dlt-reason",
        "dlt-error",
        "dlt-attempts",
        "dlt-function",
        "dlt-failed-at",
      ],
    );
    assert.equal(headers["dlt-source-topic"], "orders.created");
    assert.equal(headers["dlt-source-partition"], "2");
    assert.equal(headers["dlt-source-offset"], "7");
    assert.equal(headers["dlt-source-timestamp"], "1764000000000");
    assert.equal(headers["dlt-reason"], "retries-exhausted");
    assert.equal(headers["dlt-attempts"], "6");
    assert.equal(headers["dlt-function"], "svc-dev-consume");
    assert.equal(headers["dlt-failed-at"], "2026-12-01T10:00:00.000Z");
  });

  it("keeps at most 2000 characters of the error", () => {
    assert.equal(headers["dlt-error"], "x".repeat(2_000));
  });
});
