import { listOrders } from "../orders/orders.ts";
import { knownBalance } from "./balances.ts";
import { userOfConnection } from "./connections.ts";
import { pushFrame } from "./push.ts";

/**
 * Answers {"action":"sync"} with the user's orders and latest balance, so a page that was closed
 * while things happened catches up. Everything comes from the orders database.
 */
export async function sendSnapshot(connectionId: string): Promise<"sent" | "unknown-connection" | "gone"> {
  const userId = await userOfConnection(connectionId);
  if (!userId) return "unknown-connection";
  const [orders, balance] = await Promise.all([listOrders(userId), knownBalance(userId)]);
  return pushFrame(connectionId, { type: "SNAPSHOT", user_id: userId, orders, balance });
}
