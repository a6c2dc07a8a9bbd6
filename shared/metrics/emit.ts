import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { currentFunction, onLambda } from "../invocation.ts";
import { logger } from "../logger.ts";
import {
  FUNCTION_DIMENSION,
  METRICS,
  METRICS_NAMESPACE,
  type CounterName,
  type GaugeName,
  type MetricName,
} from "./catalog.ts";

/**
 * Metrics in CloudWatch's Embedded Metric Format, written by Powertools for AWS Lambda: a JSON line
 * on standard output that CloudWatch Logs turns into metrics, with no call to make and nothing to
 * wait for. Values are gathered per function and dimensions, then written as one line per set:
 * on AWS before each invocation answers (publishMetrics, from the handler wrapper), as a frozen
 * container writes nothing; locally, where one process runs every function, once a second.
 */
type Dimensions = Record<string, string>;

interface Pending {
  functionName: string;
  dimensions: Dimensions;
  values: Map<MetricName, number>;
}

const pending = new Map<string, Pending>();
const LOCAL_PERIOD_MS = 1_000;
let timer: NodeJS.Timeout | undefined;

function entryOf(dimensions: Dimensions): Pending {
  const functionName = currentFunction() ?? "unknown";
  const key = JSON.stringify([functionName, Object.entries(dimensions).sort()]);
  let entry = pending.get(key);
  if (!entry) {
    entry = { functionName, dimensions, values: new Map() };
    pending.set(key, entry);
  }
  if (!onLambda) timer ??= setTimeout(publishMetrics, LOCAL_PERIOD_MS).unref();
  return entry;
}

/** Counts `by` more of an event, in the invocation's function and these dimensions. */
export function countMetric(name: CounterName, dimensions: Dimensions = {}, by = 1): void {
  const { values } = entryOf(dimensions);
  values.set(name, (values.get(name) ?? 0) + by);
}

/** Samples a level: the last value given in a period is the one written. */
export function gaugeMetric(name: GaugeName, value: number, dimensions: Dimensions = {}): void {
  entryOf(dimensions).values.set(name, value);
}

/** Writes every value gathered so far, one EMF line per function and dimensions; never throws. */
export function publishMetrics(): void {
  timer = undefined;
  if (pending.size === 0) return;
  const entries = [...pending.values()];
  pending.clear();
  for (const { functionName, dimensions, values } of entries) {
    try {
      const metrics = new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: process.env.SERVICE_NAME ?? "gozon-shop",
        defaultDimensions: { [FUNCTION_DIMENSION]: functionName, ...dimensions },
      });
      for (const [name, value] of values) metrics.addMetric(name, MetricUnit[METRICS[name].unit], value);
      metrics.publishStoredMetrics();
    } catch (error) {
      logger.warn({ err: error, function_name: functionName }, "metrics not written");
    }
  }
}
