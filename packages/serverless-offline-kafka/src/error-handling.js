// @ts-check
/** @import { SourceRecord } from "./lambda-event.js" */

/**
 * The error handling of one event source mapping, under AWS's own property names: these are
 * exactly the properties merged into the EventSourceMapping at package time, and honoured offline
 * as AWS documents them for Kafka (kafka-retry-configurations, kafka-on-failure-destination).
 * @typedef {object} MappingSettings
 * @property {number} [MaximumBatchingWindowInSeconds]
 * @property {number} [MaximumRetryAttempts] -1: retry until success (capped at 10 when an
 *   on-failure destination is set, as AWS does).
 * @property {boolean} [BisectBatchOnFunctionError]
 * @property {number} [MaximumRecordAgeInSeconds] -1: records never expire.
 * @property {Array<"ReportBatchItemFailures">} [FunctionResponseTypes]
 * @property {{ OnFailure?: { Destination?: string } }} [DestinationConfig]
 */

/**
 * @typedef {object} ErrorHandling
 * @property {number} maxRetryAttempts
 * @property {boolean} bisect
 * @property {number} maxRecordAgeMs
 * @property {boolean} reportBatchItemFailures
 * @property {string | undefined} onFailureTopic The topic of a `kafka://<topic>` on-failure destination.
 */

/**
 * @param {MappingSettings | undefined} settings
 * @param {string} sourceTopic
 * @returns {ErrorHandling}
 */
export function errorHandlingOf(settings = {}, sourceTopic) {
  const destination = settings.DestinationConfig?.OnFailure?.Destination;
  if (destination !== undefined && !destination.startsWith("kafka://")) {
    throw new Error(`on-failure destination ${destination}: only kafka://<topic> runs offline`);
  }
  const onFailureTopic = destination?.slice("kafka://".length);
  if (onFailureTopic === sourceTopic)
    throw new Error(`on-failure destination ${destination} is the source topic itself`);
  const retries = settings.MaximumRetryAttempts ?? -1;
  const maxRecordAge = settings.MaximumRecordAgeInSeconds ?? -1;
  return {
    maxRetryAttempts: retries < 0 && onFailureTopic ? 10 : retries,
    bisect: settings.BisectBatchOnFunctionError ?? false,
    maxRecordAgeMs: maxRecordAge > 0 ? maxRecordAge * 1_000 : Infinity,
    reportBatchItemFailures: settings.FunctionResponseTypes?.includes("ReportBatchItemFailures") ?? false,
    onFailureTopic,
  };
}

/**
 * What one invocation of the function said about a batch: `ok: false` means the records from offset
 * `from` on failed, and those before it succeeded (a partial batch response).
 * @typedef {{ ok: true } | { ok: false, from: string, error: string }} Verdict
 */

/**
 * Reads the function's answer for a batch of one partition: an invocation error fails the whole
 * batch; with ReportBatchItemFailures the lowest reported offset of this partition is where the
 * retry starts, and an identifier that cannot be read fails the whole batch, as on AWS.
 * @param {{ functionError?: string, payload: string }} answer
 * @param {SourceRecord[]} batch
 * @param {string} topic
 * @param {number} partition
 * @param {ErrorHandling} handling
 * @returns {Verdict}
 */
export function verdictOf(answer, batch, topic, partition, handling) {
  const first = /** @type {SourceRecord} */ (batch[0]).offset;
  if (answer.functionError)
    return { ok: false, from: first, error: `${answer.functionError}: ${answer.payload.slice(0, 500)}` };
  if (!handling.reportBatchItemFailures) return { ok: true };
  /** @type {unknown} */
  let failures;
  try {
    failures = /** @type {{ batchItemFailures?: unknown } | null} */ (JSON.parse(answer.payload || "null"))
      ?.batchItemFailures;
  } catch {
    return { ok: false, from: first, error: "the function's answer is not JSON" };
  }
  if (failures === undefined || failures === null) return { ok: true };
  if (!Array.isArray(failures)) return { ok: false, from: first, error: "batchItemFailures is not a list" };
  if (failures.length === 0) return { ok: true };
  /** @type {bigint | undefined} */
  let lowest;
  for (const failure of /** @type {Array<{ itemIdentifier?: { partition?: unknown, offset?: unknown } }>} */ (
    failures
  )) {
    const id = failure?.itemIdentifier;
    const offset = typeof id?.offset === "number" || typeof id?.offset === "string" ? String(id.offset) : undefined;
    const named =
      id?.partition === `${topic}-${partition}` || id?.partition === partition || id?.partition === String(partition);
    if (!offset || !/^\d+$/.test(offset) || !named)
      return { ok: false, from: first, error: `unreadable itemIdentifier ${JSON.stringify(id)}` };
    if (lowest === undefined || BigInt(offset) < lowest) lowest = BigInt(offset);
  }
  const from = batch.find((m) => BigInt(m.offset) >= /** @type {bigint} */ (lowest))?.offset;
  return from === undefined
    ? { ok: true }
    : { ok: false, from, error: `the function reported record ${from} as failed` };
}

/**
 * How long to wait before retrying a failed batch: doubling from half a second, at most 10 s.
 * @param {number} attempt
 * @returns {number}
 */
export const retryDelayMs = (attempt) => Math.min(500 * 2 ** Math.max(attempt - 1, 0), 10_000);
