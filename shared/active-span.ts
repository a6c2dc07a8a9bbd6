import { isSpanContextValid, trace, type Attributes } from "@opentelemetry/api";

// The span under way, for code that only describes it (log lines, the order a span is about).
// Nothing here starts a span or needs the SDK: outside a trace it all does nothing.

/** Adds attributes to the active span, if there is one. */
export function describeActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** The active trace and span ids, for log lines; none outside a trace. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return undefined;
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}
