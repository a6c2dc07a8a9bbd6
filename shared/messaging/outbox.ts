import { randomUUID } from "node:crypto";
import { TOPICS, type EventOf, type FieldsOf, type Topic } from "../contract/events.ts";
import type { AtCommit, Statement } from "../db/transaction.ts";
import { afterCommit } from "../effects/unit-of-work.ts";
import { carrierOf } from "../tracing/spans.ts";
import type { OutboundRecord } from "./publisher.ts";
import { RELAY_RUNNING } from "./relay/relay-lock.ts";

/** A record on its way to Kafka, with the id that lets consumers (and the outbox) drop a second copy. */
export interface OutboxRow extends OutboundRecord {
  eventId: string;
}

const pending = new WeakMap<AtCommit, OutboxRow[]>();

/**
 * Writes a record to the outbox inside the caller's transaction and asks for the relay once the
 * transaction has committed. Every outbox write goes through here. The rows of one transaction are
 * written together, in order, by one statement right before its COMMIT.
 */
export function addToOutbox(tx: AtCommit, row: OutboxRow): void {
  const rows = pending.get(tx) ?? [];
  if (rows.length === 0) {
    pending.set(tx, rows);
    tx.beforeCommit("outbox", () => outboxInsert(rows));
    // Whether a relay is running (it then publishes these rows too) is asked right behind COMMIT.
    afterCommit(tx, (answer) => ({ kind: "relay", database: tx.database, running: answer?.running }), RELAY_RUNNING);
  }
  rows.push(row);
}

function outboxInsert(rows: OutboxRow[]): Statement {
  return {
    text: `INSERT INTO outbox (event_id, topic, record_key, record_value, record_headers)
     SELECT event_id, topic, record_key, record_value, record_headers
       FROM unnest($1::uuid[], $2::text[], $3::bytea[], $4::bytea[], $5::jsonb[]) WITH ORDINALITY
            AS r (event_id, topic, record_key, record_value, record_headers, n)
      ORDER BY n
     ON CONFLICT (event_id) DO NOTHING`,
    values: [
      rows.map((r) => r.eventId),
      rows.map((r) => r.topic),
      rows.map((r) => r.key),
      rows.map((r) => r.value),
      rows.map((r) => JSON.stringify(r.headers.map(({ name, value }) => ({ name, value: value.toString("base64") })))),
    ],
  };
}

/**
 * Publishes an event on its topic, in the caller's transaction: the envelope (id, type, version,
 * time, correlation id) is added here, the payload is checked against the topic's schema, and the
 * record is keyed by the topic's key field. A payload that does not fit its topic does not compile.
 * The row keeps the trace context it was written in (`traceparent`), for the relay's publish to
 * continue the same trace.
 */
export function emit<T extends Topic>(tx: AtCommit, topic: T, fields: FieldsOf<T>, correlationId: string): EventOf<T> {
  const { schema, key } = TOPICS[topic];
  const event = schema.parse({
    event_id: randomUUID(),
    event_type: schema.shape.event_type.value,
    event_version: 1,
    occurred_at: new Date().toISOString(),
    correlation_id: correlationId,
    ...fields,
  }) as EventOf<T>;
  addToOutbox(tx, {
    eventId: event.event_id,
    topic,
    key: Buffer.from(String(event[key as keyof EventOf<T>])),
    value: Buffer.from(JSON.stringify(event)),
    headers: [
      { name: "event_id", value: Buffer.from(event.event_id) },
      { name: "event_type", value: Buffer.from(event.event_type) },
      { name: "correlation_id", value: Buffer.from(correlationId) },
      ...Object.entries(carrierOf()).map(([name, value]) => ({ name, value: Buffer.from(value) })),
    ],
  });
  return event;
}
