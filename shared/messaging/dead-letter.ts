import { createHash } from "node:crypto";
import { deadLetterTopic } from "../contract/events.ts";
import type { Tx } from "../db/transaction.ts";
import { addToOutbox } from "./outbox.ts";
import type { OutboundRecord } from "./publisher.ts";

/** A record as it was read from Kafka: exact bytes, nothing decoded. */
export interface ReceivedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer;
  headers: Array<{ name: string; value: Buffer }>;
}

export type FailureReason = "unreadable" | "retries-exhausted" | "record-too-old";

export interface Failure {
  reason: FailureReason;
  error: string;
  /** How many times the function was given the record. */
  attempts: number;
  functionName: string;
}

/**
 * A dead letter is the failed record itself, key, value and headers untouched, on `<topic>.dlt`,
 * with why and where it failed in headers of its own (`dlt-*`). Redriving it means sending key,
 * value and the original headers back to `dlt-source-topic`.
 */
export const DLT_HEADER_PREFIX = "dlt-";

export function deadLetterOf(record: ReceivedRecord, failure: Failure, at = new Date()): OutboundRecord {
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
    topic: deadLetterTopic(record.topic),
    key: record.key,
    value: record.value,
    headers: [
      ...record.headers.filter((h) => !h.name.startsWith(DLT_HEADER_PREFIX)),
      ...Object.entries(own).map(([name, value]) => ({ name: `${DLT_HEADER_PREFIX}${name}`, value: Buffer.from(value) })),
    ],
  };
}

/** The same source record always gets the same id, so parking it twice (a redelivered batch) parks it once. */
function deadLetterId(record: ReceivedRecord): string {
  const hex = createHash("sha256").update(`${record.topic}/${record.partition}/${record.offset}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Parks a record on its dead-letter topic through the outbox, in the caller's transaction: for a
 * record that can never be handled (it does not even parse), so retrying it would only hold up the
 * records behind it.
 */
export function parkRecord(tx: Tx, record: ReceivedRecord, failure: Failure): void {
  addToOutbox(tx, { eventId: deadLetterId(record), ...deadLetterOf(record, failure) });
}
