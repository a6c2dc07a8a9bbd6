import { createHash } from "node:crypto";
import type { Tx } from "../db/transaction.ts";
import { deadLetterTopic } from "./events.ts";
import type { ReceivedRecord } from "./kafka-records.ts";
import { addToOutbox } from "./outbox.ts";

/** A stable id per source record, so parking the same record twice (a redelivered batch) parks it once. */
function deadLetterId(record: ReceivedRecord): string {
  const hex = createHash("sha256").update(`${record.topic}/${record.partition}/${record.offset}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Parks a record its consumer cannot read on `<topic>.dlt`, through the outbox, so that it is
 * never lost and never blocks the records behind it on its partition.
 */
export async function parkUnreadableRecord(tx: Tx, record: ReceivedRecord, error: string): Promise<void> {
  await addToOutbox(tx, {
    eventId: deadLetterId(record),
    topic: deadLetterTopic(record.topic),
    key: record.key ?? `${record.topic}-${record.partition}`,
    payload: {
      source_topic: record.topic,
      source_partition: record.partition,
      source_offset: record.offset,
      key: record.key,
      value: record.value,
      error,
    },
    headers: { reason: "unreadable" },
  });
}
