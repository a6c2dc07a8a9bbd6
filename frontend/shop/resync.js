import { api, request } from "./api.js";
import { report } from "./messages.js";
import { replaceOrders, upsertOrder } from "./orders.js";
import { render } from "./render.js";
import { shop } from "./state.js";

// The orders and the balance as the HTTP API has them.

/** The HTTP side of a resync: right even when the server never answers {"action":"sync"}. */
export async function refresh({ quiet = false } = {}) {
  const viewing = shop.session;
  const [list, account] = await Promise.allSettled([request("/api/orders"), api("/api/payments/balance")]);
  if (shop.session !== viewing) return;
  if (list.status === "fulfilled" && Array.isArray(list.value.data)) {
    replaceOrders(list.value.data);
    shop.olderCursor = list.value.headers.get("next-cursor");
  } else if (list.status === "rejected" && !quiet) report(list.reason);
  if (account.status === "fulfilled") shop.balance = account.value.balance;
  else if (!quiet) report(account.reason);
  render();
}

export async function showOlderOrders() {
  if (!shop.olderCursor) return;
  const viewing = shop.session;
  const page = await request("/api/orders", { query: { cursor: shop.olderCursor } });
  if (shop.session !== viewing) return;
  for (const order of page.data) upsertOrder(order);
  shop.olderCursor = page.headers.get("next-cursor");
  render();
}
