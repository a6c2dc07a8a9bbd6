/**
 * OTLP trace data (the JSON encoding of ExportTraceServiceRequest, as OTLP/HTTP exporters send it
 * with `content-type: application/json`) as Zipkin v2 spans, which Zipkin takes on POST
 * /api/v2/spans. The mapping follows what OpenTelemetry's Zipkin exporter did, so a trace reads the
 * same as before: ids in hex, times in microseconds, attributes as string tags, an error status as
 * the `error` tag, events as annotations.
 */

/** One attribute value of OTLP/JSON (AnyValue): 64-bit integers may come as strings. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer (0 unspecified). */
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  events?: Array<{ name: string; timeUnixNano: string | number; attributes?: OtlpKeyValue[] }>;
  /** code: 0 unset, 1 ok, 2 error. */
  status?: { code?: number; message?: string };
}

export interface OtlpTraceRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: "SERVER" | "CLIENT" | "PRODUCER" | "CONSUMER";
  timestamp: number;
  duration: number;
  localEndpoint: { serviceName: string };
  tags: Record<string, string>;
  annotations?: ZipkinAnnotation[];
}
export interface ZipkinAnnotation {
  timestamp: number;
  value: string;
}

const KINDS: Record<number, ZipkinSpan["kind"]> = { 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER" };
const STATUS_CODES: Record<number, string> = { 1: "OK", 2: "ERROR" };
const HEX_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;

/** An attribute value as a tag: scalars as they print, lists and maps as JSON. */
function plain(value: OtlpAnyValue | undefined): unknown {
  if (!value) return "";
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  // As sent: a 64-bit integer as a decimal string keeps every digit.
  if (value.intValue !== undefined) return value.intValue;
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  if (value.kvlistValue)
    return Object.fromEntries((value.kvlistValue.values ?? []).map((kv) => [kv.key, plain(kv.value)]));
  return "";
}
const tagOf = (value: OtlpAnyValue | undefined) => {
  const it = plain(value);
  return typeof it === "object" ? JSON.stringify(it) : String(it);
};
const tagsOf = (attributes: OtlpKeyValue[] = []) =>
  Object.fromEntries(attributes.map((kv) => [kv.key, tagOf(kv.value)]));

/** Nanoseconds since the epoch (a decimal string, or a number) in whole microseconds. */
const micros = (nanos: string | number) => Number((BigInt(nanos) + 500n) / 1000n);

/**
 * The spans of one request. The service is the span's own `service.name` attribute when it has one
 * (shared/tracing/provider.ts names each span after its function, all in one local process), else
 * the resource's. A span without valid hex ids or times is left out, not the whole request.
 */
export function zipkinSpansOf(request: OtlpTraceRequest): ZipkinSpan[] {
  const out: ZipkinSpan[] = [];
  for (const { resource, scopeSpans } of request.resourceSpans ?? []) {
    const resourceTags = tagsOf(resource?.attributes);
    for (const { spans } of scopeSpans ?? []) {
      for (const span of spans ?? []) {
        const zipkin = zipkinSpanOf(span, resourceTags);
        if (zipkin) out.push(zipkin);
      }
    }
  }
  return out;
}

function zipkinSpanOf(span: OtlpSpan, resourceTags: Record<string, string>): ZipkinSpan | undefined {
  const traceId = span.traceId?.toLowerCase();
  const id = span.spanId?.toLowerCase();
  const parentId = span.parentSpanId?.toLowerCase();
  if (!HEX_ID.test(traceId ?? "") || !HEX_ID.test(id ?? "") || id!.length !== 16) return undefined;
  let timestamp: number;
  let end: number;
  let annotations: ZipkinAnnotation[];
  try {
    timestamp = micros(span.startTimeUnixNano);
    end = micros(span.endTimeUnixNano);
    annotations = (span.events ?? []).map((event) => ({ timestamp: micros(event.timeUnixNano), value: event.name }));
  } catch {
    return undefined; // a time that is not an integer
  }
  const tags = { ...resourceTags, ...tagsOf(span.attributes) };
  const status = span.status?.code ?? 0;
  if (STATUS_CODES[status]) tags["otel.status_code"] = STATUS_CODES[status];
  if (status === 2) tags.error = span.status?.message || "ERROR";
  const kind = KINDS[span.kind ?? 0];
  return {
    traceId: traceId!,
    id: id!,
    ...(parentId && /^[0-9a-f]{16}$/.test(parentId) ? { parentId } : {}),
    name: span.name ?? "",
    ...(kind ? { kind } : {}),
    timestamp,
    // Zipkin reads a duration of 0 as "not finished".
    duration: Math.max(1, end - timestamp),
    localEndpoint: { serviceName: tags["service.name"] || "unknown_service" },
    tags,
    ...(annotations.length ? { annotations } : {}),
  };
}
