import { ordersDb } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { logger } from "../logger.ts";
import { TOPICS, type BalanceUpdated } from "../messaging/events.ts";
import { recordInInbox } from "../messaging/inbox.ts";
import { notifyUser } from "./notify.ts";

/**
 * Keeps the latest announced balance of a user (for snapshots) and pushes it to the user's open
 * sockets. The version guard drops an announcement older than the one already kept.
 */
export async function recordBalance(event: BalanceUpdated): Promise<"pushed" | "stale" | "duplicate"> {
  const outcome = await withTransaction(ordersDb(), async (tx) => {
    if (!(await recordInInbox(tx, event.event_id, TOPICS.balanceUpdated))) return "duplicate" as const;
    const kept = await tx.query(
      `INSERT INTO known_balances (user_id, balance, version) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET balance = excluded.balance, version = excluded.version, updated_at = now()
       WHERE known_balances.version < excluded.version`,
      [event.user_id, event.balance, event.version],
    );
    return kept.rowCount === 1 ? ("pushed" as const) : ("stale" as const);
  });
  if (outcome === "pushed") {
    await notifyUser(event.user_id, [{ type: "BALANCE_UPDATED", user_id: event.user_id, balance: event.balance }], event.correlation_id);
  } else {
    logger.info({ correlation_id: event.correlation_id, user_id: event.user_id, outcome }, "balance announcement not pushed");
  }
  return outcome;
}

export async function knownBalance(userId: string): Promise<number | null> {
  const result = await ordersDb().query<{ balance: number }>("SELECT balance FROM known_balances WHERE user_id = $1", [userId]);
  return result.rows[0]?.balance ?? null;
}
