import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";
import { tracesExporterOf } from "../config.ts";
import { currentFunction, onLambda } from "../invocation.ts";

/**
 * The process's OpenTelemetry setup, from the standard OTEL_* variables only, so that where spans
 * go (or whether they go anywhere) is a setting of the stage, never a code change:
 * - OTEL_TRACES_EXPORTER: `otlp` (OTLP/HTTP with JSON bodies, OTEL_EXPORTER_OTLP_ENDPOINT and
 *   friends: on AWS an ADOT collector layer or any OTLP/HTTP endpoint, locally the start command's
 *   bridge into Zipkin), or `none`, the default here: code run outside a stack (tests, scripts)
 *   records nothing. `zipkin` is refused (tracesExporterOf in config.ts): the process does not start.
 * - OTEL_SDK_DISABLED=true turns it all off; OTEL_TRACES_SAMPLER(_ARG) as the specification names them.
 * Context (W3C `traceparent`) is propagated either way, so a caller's trace passes through a shop
 * that records none of it.
 *
 * Spans are exported in batches, in the background: an exporter that cannot reach its collector
 * drops them after EXPORT_TIMEOUT_MS and never holds up a request. On AWS a container is frozen
 * once its handler answers, so each invocation flushes what it recorded first (flushSpans).
 */
const EXPORT_TIMEOUT_MS = 2_000;

function exporterOf(env: NodeJS.ProcessEnv): SpanExporter | undefined {
  return tracesExporterOf(env) === "otlp" ? new OTLPTraceExporter({ timeoutMillis: EXPORT_TIMEOUT_MS }) : undefined;
}

function samplerOf(env: NodeJS.ProcessEnv): Sampler {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? 1);
  const ratioSampler = new TraceIdRatioBasedSampler(Number.isFinite(ratio) ? ratio : 1);
  switch (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase()) {
    case "always_off":
      return new AlwaysOffSampler();
    case "always_on":
      return new AlwaysOnSampler();
    case "traceidratio":
      return ratioSampler;
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratioSampler });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Names each span's service after the function that recorded it. On AWS a process runs one
 * function; locally one process runs them all, and the trace viewer should still show the hops
 * between functions.
 */
const functionAsService: SpanProcessor = {
  onStart(span: Span) {
    const fn = currentFunction();
    if (fn) span.setAttribute("service.name", fn);
  },
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

function register(env: NodeJS.ProcessEnv): TracerProvider | undefined {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const exporter = exporterOf(env);
  if (!exporter) return undefined;
  const provider = new TracerProvider({
    // The shop; each span names its function (functionAsService). Not AWS_LAMBDA_FUNCTION_NAME:
    // locally that is whichever function happened to load first.
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || env.SERVICE_NAME || "gozon-shop" }),
    sampler: samplerOf(env),
    spanProcessors: [
      functionAsService,
      // About ten spans an order: at 100 orders/s a second's worth fits the queue several times over.
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: 8_192,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 1_000,
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  return provider;
}

const provider = register(process.env);

/** Whether spans are recorded and exported by this process. */
export const tracesRecorded = provider !== undefined;

/**
 * Sends what this invocation recorded before the container can be frozen (on AWS only: locally the
 * process lives on and exports in the background). Bounded, and it never throws.
 */
export async function flushSpans(): Promise<void> {
  if (!provider || !onLambda) return;
  await provider.forceFlush({ timeoutMillis: EXPORT_TIMEOUT_MS }).catch(() => undefined);
}
