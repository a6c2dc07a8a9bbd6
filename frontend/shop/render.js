import { config, shop } from "./state.js";
import { textEl, ui } from "./ui.js";

// The balance and the order list, drawn from the shop's state.

export const REASONS = {
  insufficient_funds: "Not enough money on the account",
  account_not_found: "No account for this user",
  invalid_amount: "Invalid amount",
};
const STATUSES = new Set(["NEW", "FINISHED", "CANCELLED"]);

const timeOf = (order) => Date.parse(order.created_at ?? order.updated_at) || 0;

export function render() {
  ui.balance.textContent = shop.balance === null || shop.balance === undefined ? "—" : String(shop.balance);
  const sorted = [...shop.orders.values()].sort((a, b) => timeOf(b) - timeOf(a));
  ui.orders.replaceChildren(...sorted.map(orderRow));
  ui.ordersEmpty.hidden = sorted.length > 0;
  ui.olderOrders.hidden = !shop.olderCursor;
}

function orderRow(order) {
  const row = document.createElement("li");
  row.className = "order";
  row.dataset.orderId = order.id;
  row.dataset.status = order.status;

  const main = document.createElement("div");
  main.className = "order-main";
  main.append(
    textEl("span", "description", order.description || "(no description)"),
    textEl("span", "amount", String(order.amount ?? "")),
  );

  const meta = document.createElement("div");
  meta.className = "order-meta";
  const known = STATUSES.has(order.status) ? order.status.toLowerCase() : "unknown";
  meta.append(textEl("span", `status status-${known}`, String(order.status)));
  if (order.reason) meta.append(textEl("span", "reason", REASONS[order.reason] ?? order.reason));
  const when = new Date(timeOf(order));
  const time = textEl("time", "time", when.toLocaleString());
  time.dateTime = when.toISOString();
  meta.append(time, textEl("span", "order-id", order.id));
  if (config.tracesUrl) meta.append(traceLink(order.id));

  row.append(main, meta);
  return row;
}

/** The order's trace in the trace viewer (Zipkin), which the page's server finds by the order's id. */
function traceLink(orderId) {
  const link = textEl("a", "trace-link", "trace");
  link.href = `/traces/${encodeURIComponent(orderId)}`;
  link.target = "_blank";
  link.rel = "noopener";
  link.title = "Where this order went: its trace across the functions";
  return link;
}
