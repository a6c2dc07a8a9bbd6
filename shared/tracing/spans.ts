import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from "@opentelemetry/api";
import "./provider.ts";

export { SpanKind, SpanStatusCode, type Context, type Span };

/**
 * The W3C trace context as it travels with a piece of work (`traceparent`, and `tracestate` when
 * there is one): in an outbox row's headers, a Kafka record's headers, an effect (effects/effect.ts).
 */
export type TraceCarrier = Record<string, string>;

const TRACE_HEADERS = new Set(["traceparent", "tracestate"]);
const tracer = trace.getTracer("gozon-shop");

/** Whether a header is one of those the trace context travels in (replaced on each hop). */
export const isTraceHeader = (name: string): boolean => TRACE_HEADERS.has(name);

/** The trace context the active span (or `ctx`) would hand on; empty when there is none. */
export function carrierOf(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The trace context that makes what follows a child of `span`. */
export const carrierOfSpan = (span: Span): TraceCarrier => carrierOf(trace.setSpan(ROOT_CONTEXT, span));

/**
 * The context a carrier names: a request's headers, a record's headers. One that is missing or
 * malformed names none, and what follows starts a new trace: tracing never refuses anything.
 */
export function contextOf(
  carrier: Record<string, string | undefined> | ReadonlyArray<{ name: string; value: Buffer | string }> | undefined,
): Context {
  if (!carrier) return ROOT_CONTEXT;
  const fields: TraceCarrier = {};
  if (Array.isArray(carrier)) {
    for (const { name, value } of carrier as ReadonlyArray<{ name: string; value: Buffer | string }>)
      if (isTraceHeader(name)) fields[name] = value.toString();
  } else {
    for (const name of TRACE_HEADERS) {
      const value = (carrier as Record<string, string | undefined>)[name];
      if (typeof value === "string") fields[name] = value;
    }
  }
  return propagation.extract(ROOT_CONTEXT, fields);
}

export function startSpan(name: string, options: { kind: SpanKind; attributes?: Attributes; parent?: Context }): Span {
  return tracer.startSpan(
    name,
    { kind: options.kind, attributes: options.attributes },
    options.parent ?? context.active(),
  );
}

/** Runs `work` with `span` active: what it logs, emits or records carries the span's context. */
export function withSpan<T>(span: Span, work: () => T): T {
  return context.with(trace.setSpan(context.active(), span), work);
}

/** Marks a span failed, with the error's type and message. */
export function failSpan(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  span.recordException(error instanceof Error ? { name: error.name, message } : { message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Runs `work` in a new span, active inside it, which records a thrown error and ends when `work` settles. */
export async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = startSpan(name, options);
  try {
    return await withSpan(span, () => work(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}
