import { createHash } from "node:crypto";
import {
  deadLetterOf as letterOf,
  type Failure as EventSourceFailure,
  type FailureReason as EventSourceFailureReason,
  type ReceivedRecord,
} from "serverless-offline-kafka/dead-letter";
import { deadLetterTopic } from "../contract/events.ts";
import type { Tx } from "../db/transaction.ts";
import { addToOutbox } from "./outbox.ts";
import type { OutboundRecord } from "./publisher.ts";

/**
 * The dead-letter format (a failed record intact, with `dlt-*` headers saying why and where it
 * failed) is the event source's (serverless-offline-kafka): it writes the letters of records whose
 * retries ran out. The consumers dead-letter a record they can never read in the very same format, so one
 * redrive tool handles both.
 */
export { DLT_HEADER_PREFIX, type ReceivedRecord } from "serverless-offline-kafka/dead-letter";

/** The event source's reasons, and the consumers' own: a record that does not even parse. */
export type FailureReason = EventSourceFailureReason | "unreadable";

export interface Failure extends EventSourceFailure {
  reason: FailureReason;
}

/** A record's dead letter, on `<topic>.dlt`. */
export function deadLetterOf(record: ReceivedRecord, failure: Failure, at = new Date()): OutboundRecord {
  return { topic: deadLetterTopic(record.topic), ...letterOf(record, failure, at) };
}

/** The same source record always gets the same id, so dead-lettering it twice (a redelivered batch) writes it once. */
function deadLetterId(record: ReceivedRecord): string {
  const hex = createHash("sha256").update(`${record.topic}/${record.partition}/${record.offset}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Sends a record to its dead-letter topic through the outbox, in the caller's transaction: for a
 * record that can never be handled (it does not even parse), so retrying it would only hold up the
 * records behind it.
 */
export function deadLetterRecord(tx: Tx, record: ReceivedRecord, failure: Failure): void {
  addToOutbox(tx, { eventId: deadLetterId(record), ...deadLetterOf(record, failure) });
}
