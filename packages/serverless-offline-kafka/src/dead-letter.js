// @ts-check

/**
 * A record as it was read from Kafka: exact bytes, nothing decoded.
 * @typedef {object} ReceivedRecord
 * @property {string} topic
 * @property {number} partition
 * @property {number} offset
 * @property {number} timestamp
 * @property {Buffer | null} key
 * @property {Buffer} value
 * @property {Array<{ name: string, value: Buffer }>} headers
 */

/**
 * Why the event source gave up on a record: its retries ran out, or it was older than
 * MaximumRecordAgeInSeconds.
 * @typedef {"retries-exhausted" | "record-too-old"} FailureReason
 */

/**
 * @typedef {object} Failure
 * @property {string} reason A FailureReason when the event source writes the letter; a function
 *   that parks a record itself (one it can never handle) may give a reason of its own.
 * @property {string} error
 * @property {number} attempts How many times the function was given the record.
 * @property {string} functionName
 */

/**
 * What goes to the on-failure topic: the record's own key and value, its headers and ours.
 * @typedef {object} DeadLetter
 * @property {Buffer | null} key
 * @property {Buffer} value
 * @property {Array<{ name: string, value: Buffer }>} headers
 */

/**
 * A dead letter is the failed record itself, key, value and headers untouched, with why and where it
 * failed in headers of its own (`dlt-*`). Redriving it means sending key, value and the original
 * headers back to `dlt-source-topic`.
 */
export const DLT_HEADER_PREFIX = "dlt-";

/**
 * The dead letter of a record. Headers of an earlier failure are replaced, not repeated: a record
 * redriven and failing again carries only why it failed last.
 * @param {ReceivedRecord} record
 * @param {Failure} failure
 * @param {Date} [at]
 * @returns {DeadLetter}
 */
export function deadLetterOf(record, failure, at = new Date()) {
  const own = {
    "source-topic": record.topic,
    "source-partition": String(record.partition),
    "source-offset": String(record.offset),
    "source-timestamp": String(record.timestamp),
    reason: failure.reason,
    error: failure.error.slice(0, 2_000),
    attempts: String(failure.attempts),
    function: failure.functionName,
    "failed-at": at.toISOString(),
  };
  return {
    key: record.key,
    value: record.value,
    headers: [
      ...record.headers.filter((h) => !h.name.startsWith(DLT_HEADER_PREFIX)),
      ...Object.entries(own).map(([name, value]) => ({
        name: `${DLT_HEADER_PREFIX}${name}`,
        value: Buffer.from(value),
      })),
    ],
  };
}
