import { randomUUID } from "node:crypto";
import { TOPICS, type EventOf, type FieldsOf, type Topic } from "../contract/events.ts";
import type { Tx } from "../db/transaction.ts";
import type { OutboundRecord } from "./publisher.ts";

/** A record on its way to Kafka, with the id that lets consumers (and the outbox) drop a second copy. */
export interface OutboxRow extends OutboundRecord {
  eventId: string;
}

/**
 * Writes a record to the outbox inside the caller's transaction and asks for the relay once the
 * transaction has committed. Every outbox write goes through here.
 */
export async function addToOutbox(tx: Tx, row: OutboxRow): Promise<void> {
  await tx.query(
    `INSERT INTO outbox (event_id, topic, record_key, record_value, record_headers)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING`,
    [row.eventId, row.topic, row.key, row.value, JSON.stringify(row.headers.map(({ name, value }) => ({ name, value: value.toString("base64") })))],
  );
  tx.afterCommit({ kind: "relay", database: tx.database });
}

/**
 * Publishes an event on its topic, in the caller's transaction: the envelope (id, type, version,
 * time, correlation id) is added here, the payload is checked against the topic's schema, and the
 * record is keyed by the topic's key field. A payload that does not fit its topic does not compile.
 */
export async function emit<T extends Topic>(tx: Tx, topic: T, fields: FieldsOf<T>, correlationId: string): Promise<EventOf<T>> {
  const { schema, key } = TOPICS[topic];
  const event = schema.parse({
    event_id: randomUUID(),
    event_type: schema.shape.event_type.value,
    event_version: 1,
    occurred_at: new Date().toISOString(),
    correlation_id: correlationId,
    ...fields,
  }) as EventOf<T>;
  await addToOutbox(tx, {
    eventId: event.event_id,
    topic,
    key: Buffer.from(String(event[key as keyof EventOf<T>])),
    value: Buffer.from(JSON.stringify(event)),
    headers: [
      { name: "event_id", value: Buffer.from(event.event_id) },
      { name: "event_type", value: Buffer.from(event.event_type) },
      { name: "correlation_id", value: Buffer.from(correlationId) },
    ],
  });
  return event;
}
