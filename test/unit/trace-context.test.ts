import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { trace } from "@opentelemetry/api";
import { carrierOf, carrierOfSpan, contextOf, startSpan, SpanKind } from "../../shared/tracing/spans.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

/** How the trace context travels in headers (shared/tracing/spans.ts): W3C traceparent, never an error. */
describe("trace context in headers", () => {
  it("reads a traceparent from request headers and from record headers alike", () => {
    for (const carrier of [
      { traceparent: `00-${TRACE}-${SPAN}-01`, "content-type": "application/json" },
      [
        { name: "traceparent", value: Buffer.from(`00-${TRACE}-${SPAN}-01`) },
        { name: "event_id", value: Buffer.from("x") },
      ],
    ]) {
      const span = trace.getSpanContext(contextOf(carrier));
      assert.equal(span?.traceId, TRACE);
      assert.equal(span?.spanId, SPAN);
      assert.equal(span?.isRemote, true);
    }
  });

  it("takes a missing, malformed or all-zero traceparent for none: a new trace, never a failure", () => {
    for (const value of [
      undefined,
      "",
      "garbage",
      `00-${TRACE}-${SPAN}`,
      `00-${"0".repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      "\u0000\uffff",
    ]) {
      const carrier = value === undefined ? {} : { traceparent: value };
      assert.equal(trace.getSpanContext(contextOf(carrier)), undefined, JSON.stringify(value));
    }
    assert.equal(
      trace.getSpanContext(contextOf([{ name: "traceparent", value: Buffer.from([0xff, 0xfe, 0x00]) }])),
      undefined,
    );
    assert.equal(trace.getSpanContext(contextOf(undefined)), undefined);
  });

  it("hands the context on unchanged where nothing records spans, so a caller's trace passes through", () => {
    const parent = contextOf({ traceparent: `00-${TRACE}-${SPAN}-01` });
    assert.deepEqual(carrierOf(parent), { traceparent: `00-${TRACE}-${SPAN}-01` });
    const span = startSpan("send orders.created", { kind: SpanKind.PRODUCER, parent });
    assert.match(carrierOfSpan(span).traceparent ?? "", new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    span.end();
    assert.deepEqual(carrierOf(), {}, "outside any span there is nothing to hand on");
  });
});
