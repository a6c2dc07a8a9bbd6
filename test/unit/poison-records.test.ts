import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeRecord } from "../../shared/messaging/records.ts";
import { orderCreatedV1 } from "../../shared/contract/events.ts";

describe("poison records are recognised, never thrown", () => {
  const record = (value: Buffer) => ({
    topic: "orders.created",
    partition: 0,
    offset: 0,
    timestamp: 0,
    key: null,
    headers: [],
    value,
  });
  const cases: Array<[string, Buffer, RegExp]> = [
    ["NUL inside braces", Buffer.from([0x7b, 0x00, 0x7d]), /not JSON/],
    ["invalid UTF-8", Buffer.from([0xc3, 0x28, 0xff]), /not UTF-8/],
    ["not JSON", Buffer.from("hello"), /not JSON/],
    ["JSON of the wrong shape", Buffer.from("[1,2,3]"), /expected object/],
    ["a missing field", Buffer.from(JSON.stringify({ event_type: "OrderCreated" })), /event_id/],
    [
      "an escaped NUL in a description",
      Buffer.from(JSON.stringify({ description: "a\u0000b" })),
      /description: must not contain control characters/,
    ],
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
