import type pg from "pg";
import type { Probe } from "../../db/transaction.ts";

/**
 * One relay per database at a time: a session advisory lock, which dies with its connection, so a
 * crashed relay blocks nobody.
 */
const RELAY_LOCK = "hashtext('outbox-relay')";

/** Takes the lock on this connection if it is free; false when another relay holds it. */
export async function tryRelayLock(client: pg.PoolClient): Promise<boolean> {
  const lock = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${RELAY_LOCK}) AS locked`);
  return lock.rows[0]?.locked ?? false;
}

/** Lets go of the lock; a statement, so it can share a round trip with the relay's UNLISTEN. */
export const RELEASE_RELAY_LOCK = `SELECT pg_advisory_unlock(${RELAY_LOCK})`;

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
