import { shop } from "./state.js";

// The orders the page knows, merged from HTTP answers and live frames, which race.

export function upsertOrder(order) {
  const known = shop.orders.get(order.id);
  // Frames and HTTP answers race: a late "NEW" must not undo a FINISHED/CANCELLED already seen.
  if (known && known.status !== "NEW" && order.status === "NEW") return;
  shop.orders.set(order.id, { ...known, ...order });
}

export function replaceOrders(list) {
  const previous = new Map(shop.orders);
  shop.orders.clear();
  for (const order of list) {
    const known = previous.get(order.id);
    shop.orders.set(order.id, known && known.status !== "NEW" && order.status === "NEW" ? known : order);
  }
}

export function fromFrame(frame) {
  const order = {
    id: frame.order_id,
    status: frame.status,
    reason: frame.reason ?? null,
    amount: frame.amount,
    description: frame.description,
    updated_at: frame.updated_at,
    // An order first seen in a frame (e.g. placed in another tab) has no created_at of its own.
    created_at: shop.orders.get(frame.order_id)?.created_at ?? frame.updated_at,
  };
  // A field missing from the frame must not wipe what the list already knows.
  return Object.fromEntries(Object.entries(order).filter(([, value]) => value !== undefined));
}
