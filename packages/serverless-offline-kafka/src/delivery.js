// @ts-check
/** @import { SourceRecord } from "./lambda-event.js" */
/** @import { FailureReason } from "./dead-letter.js" */
/** @import { ErrorHandling, Verdict } from "./error-handling.js" */
import { retryDelayMs, verdictOf } from "./error-handling.js";

/**
 * @typedef {object} DeliveryPorts
 * @property {string} topic
 * @property {number} partition
 * @property {number} batchSize
 * @property {ErrorHandling} handling
 * @property {(batch: SourceRecord[]) => Promise<{ functionError?: string, payload: string }>} invoke
 *   Invokes the function synchronously with these records; a transport failure counts as a function error.
 * @property {(next: string) => Promise<void>} commit Commits the partition's offset: everything before `next` is done.
 * @property {(records: SourceRecord[], failure: { reason: FailureReason, error: string, attempts: number }) => Promise<void>} deadLetter
 *   Sends records to the on-failure destination.
 * @property {() => boolean} stillOwned False once the consumer stops or the partition moved to
 *   another member: leave the rest uncommitted.
 * @property {(line: string) => void} warn
 * @property {(ms: number) => Promise<void>} sleep
 * @property {() => number} now
 */

/** @param {SourceRecord} message */
const nextOf = (message) => (BigInt(message.offset) + 1n).toString();

/**
 * The last of a batch that is never empty here.
 * @param {SourceRecord[]} messages
 */
const lastOf = (messages) => /** @type {SourceRecord} */ (messages.at(-1));

/**
 * Lambda's handling of one partition's records, in offset order:
 * - batches of at most BatchSize, committed only after the function succeeded with them;
 * - records older than MaximumRecordAgeInSeconds go to the destination without an invocation;
 * - a partial batch response commits the records before the first reported failure, and the
 *   retry starts at that record;
 * - a failure splits the batch in two first when BisectBatchOnFunctionError is on (a split is not
 *   a retry, as for streams), until the failing record is alone;
 * - after MaximumRetryAttempts retries the batch goes to the on-failure destination (or, without
 *   one, is dropped, as on AWS, loudly) and the partition moves on.
 * @param {SourceRecord[]} messages
 * @param {DeliveryPorts} ports
 * @returns {Promise<void>}
 */
export async function deliverPartition(messages, ports) {
  const { handling } = ports;
  /** @type {SourceRecord[][]} */
  const queue = [];
  for (let i = 0; i < messages.length; i += ports.batchSize) queue.push(messages.slice(i, i + ports.batchSize));
  let attempts = 0;
  while (queue.length > 0) {
    if (!ports.stillOwned()) return;
    let batch = /** @type {SourceRecord[]} */ (queue.shift());

    const fresh = batch.findIndex((m) => ports.now() - Number(m.timestamp) <= handling.maxRecordAgeMs);
    const expired = fresh === -1 ? batch : batch.slice(0, fresh);
    if (expired.length > 0) {
      await giveUp(ports, expired, {
        reason: "record-too-old",
        error: `older than ${handling.maxRecordAgeMs / 1000} s`,
        attempts: 0,
      });
      batch = batch.filter((m) => !expired.includes(m));
      if (batch.length === 0) continue;
    }

    const verdict = await invokeOnce(ports, batch);
    if (verdict.ok) {
      await ports.commit(nextOf(lastOf(batch)));
      attempts = 0;
      continue;
    }
    const done = batch.filter((m) => BigInt(m.offset) < BigInt(verdict.from));
    const failed = batch.slice(done.length);
    if (done.length > 0) {
      await ports.commit(nextOf(lastOf(done)));
      attempts = 0;
    }
    ports.warn(
      `${ports.topic}-${ports.partition} offsets ${/** @type {SourceRecord} */ (failed[0]).offset}..${lastOf(failed).offset} failed (attempt ${attempts + 1}): ${verdict.error}`,
    );
    if (handling.bisect && failed.length > 1) {
      const half = Math.ceil(failed.length / 2);
      queue.unshift(failed.slice(0, half), failed.slice(half));
      continue;
    }
    attempts += 1;
    if (handling.maxRetryAttempts >= 0 && attempts > handling.maxRetryAttempts) {
      await giveUp(ports, failed, { reason: "retries-exhausted", error: verdict.error, attempts });
      attempts = 0;
      continue;
    }
    await ports.sleep(retryDelayMs(attempts));
    queue.unshift(failed);
  }
}

/**
 * @param {DeliveryPorts} ports
 * @param {SourceRecord[]} records
 * @param {{ reason: FailureReason, error: string, attempts: number }} failure
 */
async function giveUp(ports, records, failure) {
  if (ports.handling.onFailureTopic) {
    await ports.deadLetter(records, failure);
    ports.warn(
      `${records.length} record(s) of ${ports.topic}-${ports.partition} sent to ${ports.handling.onFailureTopic} (${failure.reason})`,
    );
  } else {
    ports.warn(
      `${records.length} record(s) of ${ports.topic}-${ports.partition} dropped (${failure.reason}); no on-failure destination`,
    );
  }
  await ports.commit(nextOf(lastOf(records)));
}

/**
 * One invocation; its failure, whatever the cause, is a verdict on the batch. The group's heartbeats
 * go on meanwhile (the Kafka client sends them on a timer of its own), so a slow function does not
 * cost the partition.
 * @param {DeliveryPorts} ports
 * @param {SourceRecord[]} batch
 * @returns {Promise<Verdict>}
 */
async function invokeOnce(ports, batch) {
  try {
    const answer = await ports.invoke(batch);
    return verdictOf(answer, batch, ports.topic, ports.partition, ports.handling);
  } catch (error) {
    return {
      ok: false,
      from: /** @type {SourceRecord} */ (batch[0]).offset,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
