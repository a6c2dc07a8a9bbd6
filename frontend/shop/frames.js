import { capitalize, notify } from "./messages.js";
import { fromFrame, replaceOrders, upsertOrder } from "./orders.js";
import { REASONS, render } from "./render.js";
import { shop } from "./state.js";

// What the live feed pushes: order updates, balances, a snapshot after a sync, problems.

function pushedBalance(value, version = 0) {
  if (version < shop.balanceVersion) return;
  shop.balanceVersion = version;
  shop.balance = value;
}

export function handleFrame(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return; // Not ours to understand; the HTTP resync keeps the page right anyway.
  }
  if (frame?.type === "ORDER_UPDATED") {
    // Frames may be delivered twice; only a real change deserves a notice.
    const changed = shop.orders.get(frame.order_id)?.status !== frame.status;
    upsertOrder(fromFrame(frame));
    // The balance an order's payment left rides on its frame.
    if (typeof frame.balance === "number") pushedBalance(frame.balance, frame.balance_version);
    const name = frame.description || "your order";
    if (changed && frame.status === "FINISHED") notify(`Order paid: ${name}`);
    if (changed && frame.status === "CANCELLED") {
      notify(`Order cancelled: ${name} - ${REASONS[frame.reason] ?? "the payment did not go through"}`, "error");
    }
  } else if (frame?.type === "BALANCE_UPDATED" && frame.user_id === shop.session?.userId) {
    pushedBalance(frame.balance, frame.version);
  } else if (frame?.type === "SNAPSHOT") {
    if (Array.isArray(frame.orders)) replaceOrders(frame.orders);
    shop.olderCursor = frame.next_cursor ?? null;
    shop.balance = frame.balance ?? shop.balance;
  } else if (frame?.type === "PROBLEM") {
    // A sync refused for coming too fast changes nothing: the page is already current.
    if (frame.status !== 429) notify(capitalize(String(frame.detail ?? "The live feed refused a message.")), "error");
    return;
  } else {
    return;
  }
  render();
}
