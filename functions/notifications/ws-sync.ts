import { websocketHandler } from "../../shared/handlers/websocket.ts";
import { knownBalance } from "../../shared/notifications/balances.ts";
import { removeConnection, userOfConnection } from "../../shared/notifications/connections.ts";
import { pushFrame } from "../../shared/notifications/push.ts";
import { listOrders } from "../../shared/orders/orders.ts";

/**
 * The "sync" route: {"action":"sync"} -> a SNAPSHOT frame on the same connection, so a page that
 * was closed while things happened catches up. Everything comes from the orders database.
 */
export const handler = websocketHandler(async (event) => {
  const connectionId = event.requestContext.connectionId;
  const userId = await userOfConnection(connectionId);
  if (!userId) return;
  const [orders, balance] = await Promise.all([listOrders(userId), knownBalance(userId)]);
  if ((await pushFrame(connectionId, { type: "SNAPSHOT", user_id: userId, orders, balance })) === "gone") await removeConnection(connectionId);
});
