import pino from "pino";
import { currentFunction, onLambda } from "./invocation.ts";
import { activeTraceIds, describeActiveSpan } from "./active-span.ts";

/**
 * Where the lines go: standard output, written asynchronously, so a line costs the event loop every
 * function shares no write of its own (lines logged while a write is under way go out together
 * with the next). At exit pino writes what is left; on AWS flushLogs() does it before each
 * invocation answers, since a container is frozen once it has.
 */
const destination = pino.destination({ dest: 1, sync: false });

/** On AWS, writes out every line logged so far, at once; elsewhere the process lives on and writes them itself. */
export function flushLogs(): void {
  if (onLambda) destination.flushSync();
}

/**
 * Structured JSON logs. `correlation_id` is the order id: pass it in a child logger so one grep
 * follows an order from the HTTP request through both services and back to the browser push.
 * A line written inside a span carries its `trace_id` and `span_id` too.
 */
export const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? "info",
    base: { service: process.env.SERVICE_NAME ?? "gozon-shop" },
    mixin: () => {
      const fn = currentFunction();
      const ids = activeTraceIds();
      return fn ? { fn, ...ids } : { ...ids };
    },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // pg and the Kafka client hang whole clients, sockets and responses on their errors: log what explains the error, not those.
    serializers: { err: (error: unknown) => describeError(error) },
  },
  destination,
);

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  // pg names an error by `code`; @platformatic/kafka by `code` (PLT_KFK_*) and, for the broker's own
  // errors, `apiId` (the Kafka error name) and `canRetry`; several at once come as an AggregateError.
  const { code, apiId, canRetry } = error as { code?: unknown; apiId?: unknown; canRetry?: unknown };
  const errors = error instanceof AggregateError ? (error.errors as unknown[]) : [];
  return {
    type: error.name,
    message: error.message,
    ...(code !== undefined ? { code } : {}),
    ...(apiId !== undefined ? { kafka_error: apiId } : {}),
    ...(canRetry !== undefined ? { retriable: canRetry } : {}),
    ...(errors.length > 0 ? { errors: errors.slice(0, 5).map(describeError) } : {}),
    ...(error.cause !== undefined ? { cause: describeError(error.cause) } : {}),
    // An error a driver names (a code, a Kafka error name) explains itself; any other one is a bug, and its stack says where.
    ...(code === undefined && apiId === undefined ? { stack: error.stack } : {}),
  };
}

export type Logger = typeof logger;

/** A logger for one order's lines; the span under way is tagged with the order (and its user), so a trace can be found by either. */
export function forOrder(orderId: string, extra: Record<string, unknown> = {}): Logger {
  describeActiveSpan(
    typeof extra.user_id === "string" ? { "order.id": orderId, "user.id": extra.user_id } : { "order.id": orderId },
  );
  return logger.child({ correlation_id: orderId, ...extra });
}
