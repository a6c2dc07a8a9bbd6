import type { Tx } from "../db/transaction.ts";

/**
 * Records an event as received, inside the transaction that handles it. Returns false for an
 * event seen before: the caller then changes nothing. A concurrent duplicate blocks on the key
 * until the first transaction ends, so two copies never both proceed.
 */
export async function recordInInbox(tx: Tx, eventId: string, topic: string): Promise<boolean> {
  const result = await tx.query(
    "INSERT INTO inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
    [eventId, topic],
  );
  return result.rowCount === 1;
}
