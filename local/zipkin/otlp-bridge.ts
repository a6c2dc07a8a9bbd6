import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { zipkinSpansOf, type OtlpTraceRequest } from "./otlp-spans.ts";

/** What one export may weigh: the functions send at most 512 spans a batch, a few hundred KB. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Bound on one forward to Zipkin, answer included. */
const FORWARD_TIMEOUT_MS = 2_000;
/** Forwards waiting on Zipkin at once; past that a batch is dropped, so a slow Zipkin holds no more memory. */
const MAX_FORWARDS = 4;

export interface OtlpBridge {
  /** The OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT): the exporters add /v1/traces. */
  url: string;
  /** The functions' environment that sends their spans here. */
  exporterEnv: Record<string, string>;
  /** Spans Zipkin did not take (down, slow, or refusing them), since the start. */
  dropped(): number;
  stop(): Promise<void>;
}

/**
 * Zipkin 3 takes no OTLP, and OpenTelemetry's Zipkin exporter is deprecated: this takes the
 * functions' OTLP/HTTP exports (JSON, as @opentelemetry/exporter-trace-otlp-http sends them; gzip
 * too) on POST /v1/traces and hands them to Zipkin's POST /api/v2/spans. The exporter is answered
 * as soon as its request is read: Zipkin down, slow or hung costs the spans it does not take, never
 * the exporter's time nor the bridge's memory. On 127.0.0.1 only (it has no sign-in), on a port of
 * the system's choosing unless `port` is given: the functions learn it from their environment.
 */
export async function startOtlpBridge(options: { zipkinUrl: string; port?: number }): Promise<OtlpBridge> {
  const spansUrl = new URL("/api/v2/spans", options.zipkinUrl).href;
  let forwarding = 0;
  let dropped = 0;

  const forward = async (body: string, count: number) => {
    if (forwarding >= MAX_FORWARDS) return void (dropped += count);
    forwarding += 1;
    try {
      const response = await fetch(spansUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) dropped += count;
    } catch {
      dropped += count;
    } finally {
      forwarding -= 1;
    }
  };

  const server = createServer((req, res) => void take(req, res, forward));
  // A sender that trickles its body is cut off; no request is held open for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    exporterEnv: { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: url },
    dropped: () => dropped,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function take(
  req: IncomingMessage,
  res: ServerResponse,
  forward: (body: string, count: number) => Promise<void>,
): Promise<void> {
  const answer = (status: number, body: object) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.method !== "POST" || req.url?.split("?")[0] !== "/v1/traces")
    return answer(404, { code: 5, message: "this bridge takes POST /v1/traces only" });
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    req.resume();
    return answer(415, {
      code: 3,
      message: `OTLP/HTTP with JSON bodies only (OTEL_EXPORTER_OTLP_PROTOCOL=http/json), got "${type}"`,
    });
  }
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
    res.setHeader("connection", "close");
    return answer(413, { code: 8, message: `an export of over ${MAX_BODY_BYTES} bytes` });
  }
  let spans;
  try {
    let body = await readBody(req);
    if (req.headers["content-encoding"] === "gzip")
      body = await promisify(gunzip)(body, { maxOutputLength: MAX_BODY_BYTES });
    spans = zipkinSpansOf(JSON.parse(body.toString("utf8")) as OtlpTraceRequest);
  } catch (error) {
    if (res.destroyed) return; // cut off for its size
    return answer(400, { code: 3, message: `not an OTLP/JSON trace export: ${(error as Error).message}` });
  }
  // ExportTraceServiceResponse: all accepted. What Zipkin then refuses is counted, not told back.
  answer(200, {});
  if (spans.length) void forward(JSON.stringify(spans), spans.length);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
