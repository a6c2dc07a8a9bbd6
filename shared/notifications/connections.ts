import { db } from "../db/pool.ts";

/**
 * Open WebSocket connections, per user. They live in the orders database (the WebSocket API
 * belongs to the orders service) because every function runs in its own worker or container.
 */
export async function addConnection(connectionId: string, userId: string): Promise<void> {
  await db("orders").query(
    "INSERT INTO websocket_connections (connection_id, user_id) VALUES ($1, $2) ON CONFLICT (connection_id) DO UPDATE SET user_id = $2",
    [connectionId, userId],
  );
}

export async function removeConnection(connectionId: string): Promise<void> {
  await db("orders").query("DELETE FROM websocket_connections WHERE connection_id = $1", [connectionId]);
}

export async function connectionsOf(userId: string): Promise<string[]> {
  const result = await db("orders").query<{ connection_id: string }>(
    "SELECT connection_id FROM websocket_connections WHERE user_id = $1",
    [userId],
  );
  return result.rows.map((r) => r.connection_id);
}

export async function userOfConnection(connectionId: string): Promise<string | undefined> {
  const result = await db("orders").query<{ user_id: string }>(
    "SELECT user_id FROM websocket_connections WHERE connection_id = $1",
    [connectionId],
  );
  return result.rows[0]?.user_id;
}
