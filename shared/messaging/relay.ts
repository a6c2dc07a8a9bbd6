import type pg from "pg";
import { withConnection } from "../db/connection.ts";
import type { Probe } from "../db/transaction.ts";
import { logger } from "../logger.ts";
import { sleep } from "../timeout.ts";
import {
  carrierOfSpan,
  contextOf,
  failSpan,
  isTraceHeader,
  startSpan,
  SpanKind,
  withSpan,
  type Span,
} from "../tracing/spans.ts";
import { BrokerUnavailable, RecordsRefused, type OutboundRecord, type Publisher } from "./publisher.ts";

/**
 * The outbox relay: one small component with one job, publishing committed outbox rows to Kafka.
 * Delivery rules:
 * - One relay per database at a time (a session advisory lock), so each key's records reach Kafka
 *   in commit order even when invocations overlap. A relay that finds the lock taken returns at
 *   once; the holder looks once more after letting go, so what it was asked for is published.
 *   The lock dies with its connection, so a crashed relay blocks nobody.
 * - Rows are read while unpublished, oldest first, never through a cursor on id (a late-committing
 *   row would be skipped); no transaction stays open while Kafka is being waited for.
 * - A batch is marked published only after the broker acknowledged it (acks=all), so a crash in
 *   between publishes it again; consumers drop the second copy by event id.
 * - While the broker is unavailable the holder keeps the lock and retries with backoff until
 *   `deadline`, then gives up the run (the caller asks for another); nothing is lost or reordered.
 *   A run also ends at its deadline while rows keep coming, and the caller asks for the next one.
 * - A row the broker refuses (too large, invalid) is parked with its error and attempt count, and
 *   the rows behind it go on: a refused row must never wedge the outbox.
 * - Each row's publish is a producer span in the trace the row was written in (not the relay's: one
 *   run publishes rows of many orders), and its record carries that span's `traceparent` on.
 */
export interface RelayOptions {
  publisher: Publisher;
  batchSize?: number;
  /** Epoch ms after which a run waiting for the broker gives up. */
  deadline: number;
  /**
   * How long a relay that has drained its outbox keeps watching it (LISTEN outbox) before letting
   * go. Under load the next rows come within milliseconds: they go out at once, and writers, seeing
   * a relay at work, need not invoke another (see isRelayRunning).
   */
  lingerMs?: number;
}

export interface RelayResult {
  published: number;
  parked: number;
  /** Another relay held the outbox; it publishes whatever this call was asked for. */
  deferred: boolean;
  /** The broker stayed unavailable until the deadline; rows are still waiting. */
  brokerUnavailable: boolean;
  /** The deadline came while rows were still coming: the next run publishes the rest. */
  outOfTime: boolean;
}

const RELAY_LOCK = "hashtext('outbox-relay')";

/**
 * Whether a relay holds this database's outbox right now. A writer that committed before this
 * answered true needs no relay of its own: the holder reads the outbox again before it ends, and
 * once more after letting go. Taking the lock for an instant answers it in one statement.
 */
export async function isRelayRunning(pool: pg.Pool): Promise<boolean> {
  const result = await pool.query<{ running: boolean }>(RELAY_RUNNING.text);
  return result.rows[0]?.running ?? false;
}

/** isRelayRunning's question, for a writer to ask right behind its COMMIT (see addToOutbox). */
export const RELAY_RUNNING: Probe<{ running: boolean }> = {
  text: `SELECT CASE WHEN pg_try_advisory_lock(${RELAY_LOCK}) THEN NOT pg_advisory_unlock(${RELAY_LOCK}) ELSE true END AS running`,
  values: [],
};

interface Row {
  id: number;
  topic: string;
  record_key: Buffer | null;
  record_value: Buffer;
  record_headers: Array<{ name: string; value: string }>;
}

export async function relayOutbox(pool: pg.Pool, options: RelayOptions): Promise<RelayResult> {
  const total: RelayResult = { published: 0, parked: 0, deferred: false, brokerUnavailable: false, outOfTime: false };
  for (;;) {
    const run = await relayWhileLocked(pool, options);
    total.published += run.published;
    total.parked += run.parked;
    if (run.deferred || run.brokerUnavailable || run.outOfTime)
      return { ...run, published: total.published, parked: total.parked };
    if (!(await hasUnpublishedRows(pool))) return total;
    if (Date.now() >= options.deadline) return { ...total, outOfTime: true };
  }
}

async function relayWhileLocked(pool: pg.Pool, options: RelayOptions): Promise<RelayResult> {
  const result: RelayResult = { published: 0, parked: 0, deferred: false, brokerUnavailable: false, outOfTime: false };
  // A connection that may still hold the lock must not go back to the pool: any failure discards it.
  return withConnection(pool, async (client, discard) => {
    const lock = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${RELAY_LOCK}) AS locked`);
    if (!lock.rows[0]?.locked) return { ...result, deferred: true };
    const writes = new OutboxWrites(client);
    try {
      if (options.lingerMs) await client.query("LISTEN outbox");
      let idleSince = Date.now();
      for (let backoff = 250; ;) {
        writes.seen();
        const rows = await unpublishedRows(client, options.batchSize ?? 500);
        if (rows.length === 0) {
          const left = Math.min(idleSince + (options.lingerMs ?? 0), options.deadline) - Date.now();
          if (left <= 0) return result;
          await writes.next(left);
          continue;
        }
        if (Date.now() >= options.deadline) return { ...result, outOfTime: true };
        idleSince = Date.now();
        try {
          const outcome = await publishTraced(client, options.publisher, rows);
          result.published += outcome.published;
          result.parked += outcome.parked;
          backoff = 250;
        } catch (error) {
          if (!(error instanceof BrokerUnavailable)) throw error;
          if (Date.now() + backoff > options.deadline) return { ...result, brokerUnavailable: true };
          logger.warn(
            { err: error.message, retry_in_ms: backoff },
            "broker unavailable; relay keeps its rows and retries",
          );
          await sleep(backoff);
          backoff = Math.min(backoff * 2, 2_000);
        }
      }
    } catch (error) {
      discard(error as Error);
      throw error;
    } finally {
      writes.stop();
      await client.query(`UNLISTEN *; SELECT pg_advisory_unlock(${RELAY_LOCK})`).catch(discard);
    }
  });
}

/**
 * Commits that wrote outbox rows, as the relay's connection hears of them (migrations/messaging/002).
 * One that arrives while the relay is still reading counts too, so none is slept through.
 */
class OutboxWrites {
  private heard = false;
  private wake: (() => void) | undefined;
  private readonly listener = () => {
    this.heard = true;
    this.wake?.();
  };

  constructor(private readonly client: pg.PoolClient) {
    client.on("notification", this.listener);
  }

  /** Forgets what was heard: the relay is about to read the outbox. */
  seen(): void {
    this.heard = false;
  }

  /** Resolves at the next write heard since seen(), or after `ms`. */
  next(ms: number): Promise<void> {
    if (this.heard) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => ((this.wake = undefined), resolve()), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  stop(): void {
    this.client.removeListener("notification", this.listener);
    this.wake?.();
  }
}

async function unpublishedRows(client: pg.PoolClient, limit: number): Promise<Row[]> {
  const result = await client.query<Row>(
    `SELECT id, topic, record_key, record_value, record_headers FROM outbox
      WHERE published_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1`,
    [limit],
  );
  return result.rows;
}

const recordOf = (row: Row): OutboundRecord => ({
  topic: row.topic,
  key: row.record_key,
  value: row.record_value,
  headers: row.record_headers.map(({ name, value }) => ({ name, value: Buffer.from(value, "base64") })),
});

interface Send {
  row: Row;
  record: OutboundRecord;
  span: Span;
}

/** publishOrPark, each row in its producer span; a published record is logged in its span, with its order. */
async function publishTraced(
  client: pg.PoolClient,
  publisher: Publisher,
  rows: Row[],
): Promise<{ published: number; parked: number }> {
  const sends = rows.map((row): Send => {
    const record = recordOf(row);
    const span = startSpan(`send ${row.topic}`, {
      kind: SpanKind.PRODUCER,
      parent: contextOf(record.headers),
      attributes: {
        "messaging.system": "kafka",
        "messaging.operation.type": "send",
        "messaging.destination.name": row.topic,
        "outbox.id": row.id,
      },
    });
    const carried = Object.entries(carrierOfSpan(span)).map(([name, value]) => ({ name, value: Buffer.from(value) }));
    return {
      row,
      record: { ...record, headers: [...record.headers.filter((h) => !isTraceHeader(h.name)), ...carried] },
      span,
    };
  });
  const parked = new Set<Send>();
  try {
    const outcome = await publishOrPark(client, publisher, sends, parked);
    for (const send of sends) {
      if (parked.has(send)) failSpan(send.span, new Error("refused by the broker; parked"));
      else
        withSpan(send.span, () =>
          logger.info(
            { correlation_id: correlationIdOf(send.record), topic: send.row.topic, outbox_id: send.row.id },
            "record published",
          ),
        );
    }
    return outcome;
  } catch (error) {
    for (const send of sends) failSpan(send.span, error);
    throw error;
  } finally {
    for (const send of sends) send.span.end();
  }
}

const correlationIdOf = (record: OutboundRecord) =>
  record.headers.find((h) => h.name === "correlation_id")?.value.toString();

/**
 * Publishes the rows as one batch. If the broker refuses the batch, the rows go one at a time, in
 * order, to find the refused ones; those are parked (and added to `parked`) and the others published.
 */
async function publishOrPark(
  client: pg.PoolClient,
  publisher: Publisher,
  sends: Send[],
  parked: Set<Send>,
): Promise<{ published: number; parked: number }> {
  try {
    await publisher.publish(sends.map((send) => send.record));
    await markPublished(
      client,
      sends.map((send) => send.row),
    );
    return { published: sends.length, parked: 0 };
  } catch (error) {
    if (!(error instanceof RecordsRefused)) throw error;
    if (sends.length === 1) {
      const { row } = sends[0]!;
      await client.query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, parked_at = now() WHERE id = $1",
        [row.id, error.reason],
      );
      logger.error(
        { outbox_id: row.id, topic: row.topic, reason: error.reason },
        "broker refused an outbox row; parked",
      );
      parked.add(sends[0]!);
      return { published: 0, parked: 1 };
    }
    const total = { published: 0, parked: 0 };
    for (const send of sends) {
      const one = await publishOrPark(client, publisher, [send], parked);
      total.published += one.published;
      total.parked += one.parked;
    }
    return total;
  }
}

async function markPublished(client: pg.PoolClient, rows: Row[]): Promise<void> {
  await client.query("UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1)", [
    rows.map((r) => r.id),
  ]);
}

async function hasUnpublishedRows(pool: pg.Pool): Promise<boolean> {
  const result = await pool.query<{ pending: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL AND parked_at IS NULL) AS pending",
  );
  return result.rows[0]?.pending ?? false;
}

/** Outbox lag: how many rows wait, how old the oldest is, and how many the broker refused. */
export async function outboxBacklog(
  pool: pg.Pool,
): Promise<{ pending: number; oldestSeconds: number | null; parked: number }> {
  const result = await pool.query<{ pending: number; oldest: number | null; parked: number }>(
    `SELECT count(*) FILTER (WHERE parked_at IS NULL)::int AS pending,
            extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL))::float8 AS oldest,
            count(*) FILTER (WHERE parked_at IS NOT NULL)::int AS parked
       FROM outbox WHERE published_at IS NULL`,
  );
  const row = result.rows[0];
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest ?? null, parked: row?.parked ?? 0 };
}
