import type pg from "pg";
import { withConnection } from "../../db/connection.ts";
import { logger } from "../../logger.ts";
import { sleep } from "../../timeout.ts";
import { BrokerUnavailable, type Publisher } from "../publisher.ts";
import { OutboxWrites } from "./outbox-writes.ts";
import { RELEASE_RELAY_LOCK, tryRelayLock } from "./relay-lock.ts";
import { publishTraced } from "./traced-publish.ts";
import { hasUnpublishedRows, unpublishedRows } from "./unpublished-rows.ts";

/**
 * The outbox relay: one small component with one job, publishing committed outbox rows to Kafka.
 * Delivery rules:
 * - One relay per database at a time (a session advisory lock, relay-lock.ts), so each key's records
 *   reach Kafka in commit order even when invocations overlap. A relay that finds the lock taken
 *   returns at once; the holder looks once more after letting go, so what it was asked for is
 *   published. The lock dies with its connection, so a crashed relay blocks nobody.
 * - Rows are read while unpublished, oldest first, never through a cursor on id (a late-committing
 *   row would be skipped); no transaction stays open while Kafka is being waited for.
 * - A batch is marked published only after the broker acknowledged it (acks=all), so a crash in
 *   between publishes it again; consumers drop the second copy by event id.
 * - While the broker is unavailable the holder keeps the lock and retries with backoff until
 *   `deadline`, then gives up the run (the caller asks for another); nothing is lost or reordered.
 *   A run also ends at its deadline while rows keep coming, and the caller asks for the next one.
 * - A row the broker refuses (too large, invalid) is parked with its error and attempt count, and
 *   the rows behind it go on: a refused row must never wedge the outbox (publish-or-park.ts).
 * - Each row's publish is a producer span in the trace the row was written in (not the relay's: one
 *   run publishes rows of many orders), and its record carries that span's `traceparent` on
 *   (traced-publish.ts).
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

const NOTHING_YET: RelayResult = {
  published: 0,
  parked: 0,
  deferred: false,
  brokerUnavailable: false,
  outOfTime: false,
};

export async function relayOutbox(pool: pg.Pool, options: RelayOptions): Promise<RelayResult> {
  const total = { ...NOTHING_YET };
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
  const result = { ...NOTHING_YET };
  // A connection that may still hold the lock must not go back to the pool: any failure discards it.
  return withConnection(pool, async (client, discard) => {
    if (!(await tryRelayLock(client))) return { ...result, deferred: true };
    const writes = new OutboxWrites(client);
    try {
      if (options.lingerMs) await writes.listen();
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
      await client.query(`UNLISTEN *; ${RELEASE_RELAY_LOCK}`).catch(discard);
    }
  });
}
