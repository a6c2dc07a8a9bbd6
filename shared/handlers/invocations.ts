import type { Context } from "aws-lambda";
import { config } from "../config.ts";
import { inInvocation, onLambda } from "../invocation.ts";
import { flushLogs, logger } from "../logger.ts";
import { carryOut } from "./carry-out.ts";
import { inUnitOfWork } from "../effects/unit-of-work.ts";
import { publishMetrics } from "../metrics/emit.ts";
import { flushSpans } from "../tracing/provider.ts";
import { isWarmUp, WARMED } from "./warm-up.ts";

/**
 * Every invocation, as each handler wrapper (HTTP, Kafka, relay, WebSocket) runs it: its log lines
 * name its function, and what it would be billed for is counted: how many, and their summed
 * duration, each rounded up to the millisecond as Lambda bills it. Lambda writes a REPORT line per
 * invocation on AWS; locally nothing does, so with INVOCATION_REPORT_MS set (the benchmark sets it)
 * one "invocations" line per period tells the totals, per function.
 */
interface Totals {
  count: number;
  ms: number;
  billed_ms: number;
}

const totals = new Map<string, Totals>();
let timer: NodeJS.Timeout | undefined;

function report(): void {
  timer = undefined;
  logger.info({ invocations: Object.fromEntries(totals) }, "invocations");
  totals.clear();
}

function count(name: string, ms: number): void {
  const entry = totals.get(name) ?? { count: 0, ms: 0, billed_ms: 0 };
  entry.count += 1;
  entry.ms += ms;
  entry.billed_ms += Math.max(1, Math.ceil(ms));
  totals.set(name, entry);
  timer ??= setTimeout(report, config().invocationReportMs).unref();
}

/** The function's name as Lambda knows it (serverless-offline passes it in the context too), if known. */
const functionName = (context: Partial<Pick<Context, "functionName">> | undefined) =>
  context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME;

/**
 * Wraps a handler: its log lines name its function; it is a unit of work, whose committed effects
 * (relays to wake, frames to push) are carried out before it answers, as a Lambda container is
 * frozen once it has; with INVOCATION_REPORT_MS set its invocations are counted; and on AWS the
 * spans it recorded are sent and its metrics and log lines written before it answers. The runtime passes the
 * context second, whether or not the handler's type names it. The warm-up event (warm-up.ts) is
 * answered at once, uncounted.
 */
export function invocation<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    // No event of the handler's type: its sender reads nothing from the answer but that it came.
    if (isWarmUp(args[0])) return WARMED as R;
    const name = functionName(args[1] as Partial<Pick<Context, "functionName">> | undefined);
    const started = performance.now();
    try {
      const run = () => inUnitOfWork(() => handler(...args), carryOut);
      // A handler called without a function's context (a test) runs as the process's only function.
      return await (name ? inInvocation(name, run) : run());
    } finally {
      await flushSpans();
      if (onLambda) publishMetrics();
      flushLogs();
      // Read at call time: the configuration is the process's, known once it runs.
      if (config().invocationReportMs > 0) count(name ?? "unknown", performance.now() - started);
    }
  };
}
