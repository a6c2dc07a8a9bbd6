import { db } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { TooManyRequests } from "../errors.ts";

/** Open sockets a user may have at once (tabs, devices); one more is refused with 429. */
export const MAX_SOCKETS_PER_USER = 5;
/** A connection may ask for a snapshot once a second; a faster sync is refused with 429. */
export const SYNC_INTERVAL_SECONDS = 1;
/**
 * API Gateway ends every WebSocket after 2 hours. A row older than that whose $disconnect never
 * came is a dead connection and does not count against the limit.
 */
const MAX_CONNECTION_HOURS = 2;

/**
 * Open WebSocket connections, per user. They live in the orders database (the WebSocket API
 * belongs to the orders service) because every function runs in its own worker or container.
 * A user's connects are serialised (an advisory lock on the user), so the limit holds under races.
 * The lock, the clean-up of connections too old to be open and the insert that holds to the limit
 * go out together, with BEGIN (one round trip, then COMMIT's): a burst of handshakes holds each
 * database connection for two round trips, not five.
 */
export async function addConnection(connectionId: string, userId: string): Promise<void> {
  await withTransaction("orders", async (tx) => {
    const [, , inserted] = await Promise.all([
      tx.query("SELECT pg_advisory_xact_lock(hashtext('websocket:' || $1))", [userId]),
      tx.query(
        "DELETE FROM websocket_connections WHERE user_id = $1 AND connected_at < now() - make_interval(hours => $2)",
        [userId, MAX_CONNECTION_HOURS],
      ),
      // Each statement sees what committed before it started: the count is taken under the lock.
      tx.query(
        `INSERT INTO websocket_connections (connection_id, user_id)
         SELECT $1, $2 WHERE (SELECT count(*) FROM websocket_connections WHERE user_id = $2 AND connection_id <> $1) < $3
         ON CONFLICT (connection_id) DO UPDATE SET user_id = $2`,
        [connectionId, userId, MAX_SOCKETS_PER_USER],
      ),
    ]);
    if (inserted.rowCount === 0) {
      throw new TooManyRequests(
        `At most ${MAX_SOCKETS_PER_USER} sockets per user may be open at once; close one first`,
        "connection",
      );
    }
  });
}

export async function removeConnection(connectionId: string): Promise<void> {
  await db("orders").query("DELETE FROM websocket_connections WHERE connection_id = $1", [connectionId]);
}

/** The open connections of each of these users (one look-up, however many users). */
export async function connectionsOf(userIds: string[]): Promise<Map<string, string[]>> {
  const result = await db("orders").query<{ user_id: string; connection_id: string }>(
    "SELECT user_id, connection_id FROM websocket_connections WHERE user_id = ANY($1::uuid[])",
    [userIds],
  );
  const byUser = new Map<string, string[]>();
  for (const { user_id, connection_id } of result.rows)
    byUser.set(user_id, [...(byUser.get(user_id) ?? []), connection_id]);
  return byUser;
}

/**
 * The user of a connection asking for a snapshot, if it may have one now: undefined for a
 * connection we do not know, 429 for one that asked less than a second ago.
 */
export async function claimSync(connectionId: string): Promise<string | undefined> {
  const claimed = await db("orders").query<{ user_id: string }>(
    `UPDATE websocket_connections SET last_sync_at = now()
      WHERE connection_id = $1 AND (last_sync_at IS NULL OR last_sync_at <= now() - make_interval(secs => $2))
      RETURNING user_id`,
    [connectionId, SYNC_INTERVAL_SECONDS],
  );
  if (claimed.rows[0]) return claimed.rows[0].user_id;
  const known = await db("orders").query("SELECT 1 FROM websocket_connections WHERE connection_id = $1", [
    connectionId,
  ]);
  if (known.rowCount)
    throw new TooManyRequests(
      `At most one sync per ${SYNC_INTERVAL_SECONDS} s per connection; the last snapshot is still current`,
      "action",
    );
  return undefined;
}
