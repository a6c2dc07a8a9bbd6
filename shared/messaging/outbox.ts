import type pg from "pg";
import type { Producer } from "kafkajs";
import type { Tx } from "../db/transaction.ts";
import { withTransaction } from "../db/transaction.ts";

export interface OutboxMessage {
  eventId: string;
  topic: string;
  /** Kafka key: every message of one key lands on one partition, in commit order. */
  key: string;
  payload: object;
  headers?: Record<string, string>;
}

/** Writes a message to the outbox inside the caller's transaction; the relay publishes it. */
export async function addToOutbox(tx: Tx, message: OutboxMessage): Promise<void> {
  await tx.query(
    "INSERT INTO outbox (event_id, topic, message_key, payload, headers) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
    [message.eventId, message.topic, message.key, JSON.stringify(message.payload), JSON.stringify(message.headers ?? {})],
  );
}

interface OutboxRow {
  id: number;
  event_id: string;
  topic: string;
  message_key: string;
  payload: unknown;
  headers: Record<string, string>;
}

export interface RelayResult {
  published: number;
  /** True when another relay held the outbox; it publishes whatever this call was asked for. */
  deferred: boolean;
}

// One relay per database at a time keeps each key's messages in commit order even when
// invocations overlap; the lock dies with its connection, so a crashed relay blocks nobody.
const RELAY_LOCK = "hashtext('outbox-relay')";

/**
 * The outbox relay. Delivery rules:
 * - rows are claimed while unpublished, oldest first, inside a transaction that holds the relay lock;
 * - a batch is sent with the idempotent producer and marked published only after the broker's ack,
 *   so a crash in between publishes the batch again (consumers deduplicate by event_id);
 * - it drains until the outbox is empty; after letting go of the lock it looks once more, because
 *   a relay invoked while it held the lock gave way to it and counts on it to publish those rows;
 * - a relay that finds the lock taken returns at once (deferred).
 */
export async function relayOutbox(pool: pg.Pool, producer: () => Promise<Producer>, batchSize = 500): Promise<RelayResult> {
  let published = 0;
  for (;;) {
    const outcome = await withTransaction(pool, async (tx) => {
      const lock = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${RELAY_LOCK}) AS locked`);
      if (!lock.rows[0]?.locked) return "busy" as const;
      const rows = await claimUnpublishedRows(tx, batchSize);
      if (rows.length > 0) {
        await publishRows(await producer(), rows);
        await tx.query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)", [rows.map((r) => r.id)]);
        published += rows.length;
      }
      return rows.length === batchSize ? ("more" as const) : ("drained" as const);
    });
    if (outcome === "busy") return { published, deferred: true };
    if (outcome === "drained" && !(await hasUnpublishedRows(pool))) return { published, deferred: false };
  }
}

async function claimUnpublishedRows(tx: Tx, limit: number): Promise<OutboxRow[]> {
  const result = await tx.query<OutboxRow>(
    `SELECT id, event_id, topic, message_key, payload, headers FROM outbox
      WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE`,
    [limit],
  );
  return result.rows;
}

async function hasUnpublishedRows(pool: pg.Pool): Promise<boolean> {
  const result = await pool.query<{ pending: boolean }>("SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL) AS pending");
  return result.rows[0]?.pending ?? false;
}

async function publishRows(producer: Producer, rows: OutboxRow[]): Promise<void> {
  const byTopic = new Map<string, OutboxRow[]>();
  for (const row of rows) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
  await producer.sendBatch({
    acks: -1,
    topicMessages: [...byTopic].map(([topic, topicRows]) => ({
      topic,
      messages: topicRows.map((row) => ({
        key: row.message_key,
        value: JSON.stringify(row.payload),
        headers: { ...row.headers, event_id: row.event_id },
      })),
    })),
  });
}

/** Deletes rows published longer ago than the retention; the inboxes dedupe far beyond Kafka's replay window. */
export async function deletePublishedRows(pool: pg.Pool, olderThanHours: number): Promise<number> {
  const result = await pool.query("DELETE FROM outbox WHERE published_at < now() - make_interval(hours => $1)", [olderThanHours]);
  return result.rowCount ?? 0;
}

/** Outbox lag: how many rows wait and how old the oldest is. */
export async function outboxBacklog(pool: pg.Pool): Promise<{ pending: number; oldestSeconds: number | null }> {
  const result = await pool.query<{ pending: number; oldest: number | null }>(
    `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
       FROM outbox WHERE published_at IS NULL`,
  );
  const row = result.rows[0];
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ?? null };
}
