import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { startOtlpBridge } from "../../local/zipkin/otlp-bridge.ts";
import { zipkinSpansOf, type OtlpTraceRequest, type ZipkinSpan } from "../../local/zipkin/otlp-spans.ts";
import { eventually } from "../support/shop-client.ts";
import { freePort } from "../support/ports.ts";

/**
 * The local bridge from the functions' OTLP exports to Zipkin (local/zipkin/): the translation,
 * written out by hand on both sides, and the bridge between a real OTLP exporter and a stand-in
 * Zipkin that takes spans, is down, or hangs.
 */

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

/** An export as @opentelemetry/exporter-trace-otlp-http writes it: hex ids, times as nanosecond strings. */
const EXPORT: OtlpTraceRequest = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: "gozon-shop" } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: TRACE,
              spanId: "00f067aa0ba902b7",
              name: "POST /api/orders",
              kind: 2,
              startTimeUnixNano: "1765000000123456789",
              endTimeUnixNano: "1765000000223456789",
              attributes: [
                { key: "service.name", value: { stringValue: "gozon-shop-dev-createOrder" } },
                { key: "http.response.status_code", value: { intValue: 201 } },
                { key: "order.id", value: { stringValue: "0b6a4a3e-6f1d-4b52-9a54-3c1f8e9d2a10" } },
                { key: "retried", value: { boolValue: false } },
                { key: "ratio", value: { doubleValue: 0.5 } },
                { key: "topics", value: { arrayValue: { values: [{ stringValue: "a" }, { stringValue: "b" }] } } },
              ],
              events: [],
              status: { code: 0 },
            },
            {
              traceId: TRACE,
              spanId: "b7ad6b7169203331",
              parentSpanId: "00f067aa0ba902b7",
              name: "process orders.created",
              kind: 5,
              startTimeUnixNano: "1765000000300000000",
              endTimeUnixNano: "1765000000300000400",
              attributes: [{ key: "messaging.kafka.offset", value: { intValue: "9007199254740993" } }],
              events: [
                {
                  name: "exception",
                  timeUnixNano: "1765000000300000200",
                  attributes: [{ key: "exception.message", value: { stringValue: "injected" } }],
                },
              ],
              status: { code: 2, message: "injected failure" },
            },
            {
              traceId: TRACE,
              spanId: "c7ad6b7169203331",
              parentSpanId: "",
              name: "orders transaction",
              kind: 1,
              startTimeUnixNano: 1765000000400000000,
              endTimeUnixNano: 1765000000500000000,
              status: { code: 1 },
            },
            // Not a span Zipkin could take: left out, the rest goes.
            { traceId: "xyz", spanId: "1", name: "broken", startTimeUnixNano: "1", endTimeUnixNano: "2" },
          ],
        },
      ],
    },
  ],
};

const ZIPKIN: ZipkinSpan[] = [
  {
    traceId: TRACE,
    id: "00f067aa0ba902b7",
    name: "POST /api/orders",
    kind: "SERVER",
    timestamp: 1765000000123457,
    duration: 100000,
    localEndpoint: { serviceName: "gozon-shop-dev-createOrder" },
    tags: {
      "service.name": "gozon-shop-dev-createOrder",
      "http.response.status_code": "201",
      "order.id": "0b6a4a3e-6f1d-4b52-9a54-3c1f8e9d2a10",
      retried: "false",
      ratio: "0.5",
      topics: '["a","b"]',
    },
  },
  {
    traceId: TRACE,
    id: "b7ad6b7169203331",
    parentId: "00f067aa0ba902b7",
    name: "process orders.created",
    kind: "CONSUMER",
    timestamp: 1765000000300000,
    duration: 1,
    localEndpoint: { serviceName: "gozon-shop" },
    tags: {
      "service.name": "gozon-shop",
      "messaging.kafka.offset": "9007199254740993",
      "otel.status_code": "ERROR",
      error: "injected failure",
    },
    annotations: [{ timestamp: 1765000000300000, value: "exception" }],
  },
  {
    traceId: TRACE,
    id: "c7ad6b7169203331",
    name: "orders transaction",
    timestamp: 1765000000400000,
    duration: 100000,
    localEndpoint: { serviceName: "gozon-shop" },
    tags: { "service.name": "gozon-shop", "otel.status_code": "OK" },
  },
];

/** A stand-in Zipkin: records what POST /api/v2/spans gets, or never answers (`hang`). */
async function fakeZipkin(options: { hang?: boolean } = {}) {
  const received: ZipkinSpan[][] = [];
  const hung: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    if (options.hang) return void hung.push(req);
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/api/v2/spans") received.push(JSON.parse(Buffer.concat(chunks).toString()) as ZipkinSpan[]);
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    hung,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const post = (url: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/traces`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    signal: AbortSignal.timeout(5_000),
  });

describe("OTLP/JSON spans as Zipkin v2 spans", () => {
  it("maps ids, kind, times, service, tags, the error status and events, and leaves out what Zipkin cannot take", () => {
    assert.deepEqual(zipkinSpansOf(EXPORT), ZIPKIN);
  });

  it("takes an empty export, and any request without spans, as no spans", () => {
    assert.deepEqual(zipkinSpansOf({}), []);
    assert.deepEqual(zipkinSpansOf({ resourceSpans: [{ scopeSpans: [{}] }] }), []);
  });
});

describe("the OTLP bridge into Zipkin", () => {
  it("takes what the OTLP/HTTP exporter sends and hands the spans to Zipkin", async () => {
    const zipkin = await fakeZipkin();
    const bridge = await startOtlpBridge({ zipkinUrl: zipkin.url });
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ "service.name": "gozon-shop" }),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${bridge.url}/v1/traces` }) })],
    });
    try {
      const span = provider.getTracer("test").startSpan("send orders.created", { kind: SpanKind.PRODUCER });
      span.setAttribute("order.id", "o-1");
      span.setStatus({ code: SpanStatusCode.ERROR, message: "broker down" });
      span.end();
      await provider.forceFlush();
      const [sent] = await eventually(async () => zipkin.received[0], 5_000, "Zipkin to get the span");
      assert.equal(sent!.name, "send orders.created");
      assert.equal(sent!.kind, "PRODUCER");
      assert.equal(sent!.id, span.spanContext().spanId);
      assert.equal(sent!.localEndpoint.serviceName, "gozon-shop");
      assert.equal(sent!.tags["order.id"], "o-1");
      assert.equal(sent!.tags.error, "broker down");
      assert.equal(bridge.dropped(), 0);
      assert.deepEqual(bridge.exporterEnv, { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: bridge.url });
    } finally {
      await provider.shutdown();
      await bridge.stop();
      await zipkin.close();
    }
  });

  it("takes gzip, and refuses protobuf, other paths and what is not JSON, naming why", async () => {
    const zipkin = await fakeZipkin();
    const bridge = await startOtlpBridge({ zipkinUrl: zipkin.url });
    try {
      assert.equal(
        (await post(bridge.url, gzipSync(JSON.stringify(EXPORT)), { "content-encoding": "gzip" })).status,
        200,
      );
      await eventually(async () => zipkin.received.length === 1 || undefined, 5_000, "the gzipped spans in Zipkin");
      assert.deepEqual(zipkin.received[0], ZIPKIN);
      const protobuf = await post(bridge.url, Buffer.from([10, 0]), { "content-type": "application/x-protobuf" });
      assert.equal(protobuf.status, 415);
      assert.match(((await protobuf.json()) as { message: string }).message, /http\/json/);
      assert.equal((await post(bridge.url, "{not json")).status, 400);
      assert.equal((await post(bridge.url, "null")).status, 400);
      const elsewhere = await fetch(`${bridge.url}/v1/metrics`, { method: "POST", signal: AbortSignal.timeout(5_000) });
      assert.equal(elsewhere.status, 404);
    } finally {
      await bridge.stop();
      await zipkin.close();
    }
  });

  it("answers at once while Zipkin is down or hangs: the spans are dropped, the forwards stay bounded", async () => {
    const down = await startOtlpBridge({ zipkinUrl: `http://127.0.0.1:${await freePort()}` });
    const zipkin = await fakeZipkin({ hang: true });
    const hung = await startOtlpBridge({ zipkinUrl: zipkin.url });
    try {
      for (const bridge of [down, hung]) {
        for (let i = 0; i < 10; i++) {
          const since = Date.now();
          assert.equal((await post(bridge.url, JSON.stringify(EXPORT))).status, 200);
          assert.ok(Date.now() - since < 1_000, `answered in ${Date.now() - since} ms`);
        }
      }
      await eventually(
        async () => down.dropped() === 30 || undefined,
        5_000,
        "the spans Zipkin could not take counted",
      );
      await eventually(
        async () => zipkin.hung.length === 4 || undefined,
        5_000,
        "4 forwards waiting on the hung Zipkin",
      );
      assert.equal(zipkin.hung.length, 4, "no more than 4 forwards wait on a hung Zipkin");
      await eventually(async () => hung.dropped() === 30 || undefined, 5_000, "the hung forwards given up after 2 s");
    } finally {
      await Promise.all([down.stop(), hung.stop()]);
      await zipkin.close();
    }
  });
});
