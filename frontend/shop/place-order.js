import { api } from "./api.js";
import { isLive } from "./live.js";
import { notify } from "./messages.js";
import { upsertOrder } from "./orders.js";
import { render } from "./render.js";
import { shop } from "./state.js";
import { readAmount, ui } from "./ui.js";

export async function placeOrder() {
  const amount = readAmount(ui.orderAmount);
  const description = ui.orderDescription.value.trim();
  const viewing = shop.session;
  const created = await api("/api/orders", { method: "POST", body: { amount, description }, idempotent: true });
  if (shop.session === viewing) upsertOrder(created.order);
  const hint = isLive() ? "" : " Its status will show once the live feed is back.";
  notify(`Order placed and waiting for payment.${hint}`);
  ui.orderDescription.value = "";
  ui.orderAmount.value = "";
  render();
}
