import type { KafkaMessage } from "kafkajs";

/**
 * The error handling of one event source mapping, under AWS's own property names: these are
 * exactly the properties merged into the EventSourceMapping at package time, and honoured offline
 * as AWS documents them for Kafka (kafka-retry-configurations, kafka-on-failure-destination).
 */
export interface MappingSettings {
  MaximumBatchingWindowInSeconds?: number;
  /** -1: retry until success (capped at 10 when an on-failure destination is set, as AWS does). */
  MaximumRetryAttempts?: number;
  BisectBatchOnFunctionError?: boolean;
  /** -1: records never expire. */
  MaximumRecordAgeInSeconds?: number;
  FunctionResponseTypes?: Array<"ReportBatchItemFailures">;
  DestinationConfig?: { OnFailure?: { Destination?: string } };
}

export interface ErrorHandling {
  maxRetryAttempts: number;
  bisect: boolean;
  maxRecordAgeMs: number;
  reportBatchItemFailures: boolean;
  /** The topic of a `kafka://<topic>` on-failure destination. */
  onFailureTopic: string | undefined;
}

export function errorHandlingOf(settings: MappingSettings = {}, sourceTopic: string): ErrorHandling {
  const destination = settings.DestinationConfig?.OnFailure?.Destination;
  if (destination !== undefined && !destination.startsWith("kafka://")) {
    throw new Error(`on-failure destination ${destination}: only kafka://<topic> runs offline`);
  }
  const onFailureTopic = destination?.slice("kafka://".length);
  if (onFailureTopic === sourceTopic) throw new Error(`on-failure destination ${destination} is the source topic itself`);
  const retries = settings.MaximumRetryAttempts ?? -1;
  return {
    maxRetryAttempts: retries < 0 && onFailureTopic ? 10 : retries,
    bisect: settings.BisectBatchOnFunctionError ?? false,
    maxRecordAgeMs: (settings.MaximumRecordAgeInSeconds ?? -1) > 0 ? settings.MaximumRecordAgeInSeconds! * 1_000 : Infinity,
    reportBatchItemFailures: settings.FunctionResponseTypes?.includes("ReportBatchItemFailures") ?? false,
    onFailureTopic,
  };
}

/** What one invocation of the function said about a batch. */
export type Verdict =
  | { ok: true }
  /** Records from this offset on failed; those before it succeeded (a partial batch response). */
  | { ok: false; from: string; error: string };

/**
 * Reads the function's answer for a batch of one partition: an invocation error fails the whole
 * batch; with ReportBatchItemFailures the lowest reported offset of this partition is where the
 * retry starts, and an identifier that cannot be read fails the whole batch, as on AWS.
 */
export function verdictOf(
  answer: { functionError?: string; payload: string },
  batch: KafkaMessage[],
  topic: string,
  partition: number,
  handling: ErrorHandling,
): Verdict {
  const first = batch[0]!.offset;
  if (answer.functionError) return { ok: false, from: first, error: `${answer.functionError}: ${answer.payload.slice(0, 500)}` };
  if (!handling.reportBatchItemFailures) return { ok: true };
  let failures: unknown;
  try {
    failures = (JSON.parse(answer.payload || "null") as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  } catch {
    return { ok: false, from: first, error: "the function's answer is not JSON" };
  }
  if (failures === undefined || failures === null) return { ok: true };
  if (!Array.isArray(failures)) return { ok: false, from: first, error: "batchItemFailures is not a list" };
  if (failures.length === 0) return { ok: true };
  let lowest: bigint | undefined;
  for (const failure of failures as Array<{ itemIdentifier?: { partition?: unknown; offset?: unknown } }>) {
    const id = failure?.itemIdentifier;
    const offset = typeof id?.offset === "number" || typeof id?.offset === "string" ? String(id.offset) : undefined;
    const named = id?.partition === `${topic}-${partition}` || id?.partition === partition || id?.partition === String(partition);
    if (!offset || !/^\d+$/.test(offset) || !named) return { ok: false, from: first, error: `unreadable itemIdentifier ${JSON.stringify(id)}` };
    if (lowest === undefined || BigInt(offset) < lowest) lowest = BigInt(offset);
  }
  const from = batch.find((m) => BigInt(m.offset) >= lowest!)?.offset;
  return from === undefined ? { ok: true } : { ok: false, from, error: `the function reported record ${from} as failed` };
}

/** How long to wait before retrying a failed batch: doubling from half a second, at most 10 s. */
export const retryDelayMs = (attempt: number): number => Math.min(500 * 2 ** Math.max(attempt - 1, 0), 10_000);
