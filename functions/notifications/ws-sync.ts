import { encodeOrderCursor } from "../../shared/contract/http.ts";
import { MAX_INCOMING_FRAME_BYTES, SNAPSHOT_ORDERS } from "../../shared/contract/frames.ts";
import { InvalidInput, PayloadTooLarge } from "../../shared/errors.ts";
import { websocketHandler } from "../../shared/handlers/websocket.ts";
import { knownBalance } from "../../shared/notifications/balances.ts";
import { claimSync, removeConnection } from "../../shared/notifications/connections.ts";
import { pushFrame } from "../../shared/notifications/push.ts";
import { listOrders } from "../../shared/orders/orders.ts";

/**
 * Every frame a client sends. {"action":"sync"} -> a SNAPSHOT frame on the same connection (the
 * newest orders and the balance, from the orders database), so a page that was closed while things
 * happened catches up; at most once a second. Anything else ($default), and any frame over 1 KiB,
 * is answered with a PROBLEM frame.
 */
export const handler = websocketHandler(async (event) => {
  const connectionId = event.requestContext.connectionId;
  if (Buffer.byteLength(event.body ?? "") > MAX_INCOMING_FRAME_BYTES) {
    throw new PayloadTooLarge(`A frame must be at most ${MAX_INCOMING_FRAME_BYTES} bytes`, "body");
  }
  if (event.requestContext.routeKey !== "sync")
    throw new InvalidInput('Unknown frame: the one action is {"action":"sync"}', "action");
  const userId = await claimSync(connectionId);
  if (!userId) return;
  const [page, balance] = await Promise.all([listOrders(userId, { limit: SNAPSHOT_ORDERS }), knownBalance(userId)]);
  const frame = {
    type: "SNAPSHOT" as const,
    user_id: userId,
    orders: page.orders,
    balance,
    next_cursor: page.next && encodeOrderCursor(page.next),
  };
  if ((await pushFrame(connectionId, frame)) === "gone") await removeConnection(connectionId);
});
