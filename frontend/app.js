// Gozon Async Shop: a shopper's page over the HTTP API plus a live WebSocket feed.
// Server data only ever reaches the page through textContent, never innerHTML.

const config = window.GOZON_CONFIG ?? {};
const STORAGE_KEY = "gozon.userId";
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
const MAX_MESSAGES = 6;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const NO_ACCOUNT = "There is no account for this user id yet. Create it first.";
const REASONS = {
  insufficient_funds: "Not enough money on the account",
  account_not_found: "No account for this user",
  invalid_amount: "Invalid amount",
};
const FIELD_LABELS = { user_id: "User id", amount: "Amount", description: "Description" };
const STATUSES = new Set(["NEW", "FINISHED", "CANCELLED"]);

const $ = (id) => document.getElementById(id);
const ui = {
  userId: $("user-id"),
  generate: $("generate-user"),
  createAccount: $("create-account"),
  connect: $("connect"),
  state: $("connection-state"),
  balance: $("balance"),
  depositForm: $("deposit-form"),
  depositAmount: $("deposit-amount"),
  deposit: $("deposit"),
  orderForm: $("order-form"),
  orderDescription: $("order-description"),
  orderAmount: $("order-amount"),
  placeOrder: $("place-order"),
  orders: $("orders"),
  ordersEmpty: $("orders-empty"),
  messages: $("messages"),
  docsLink: $("docs-link"),
};

// The user whose balance and orders are on screen; answers for anyone else are dropped.
let viewing = null;
let balance = null;
const orders = new Map();
let socket = null;
let retryTimer = null;
let retries = 0;

/** An error whose message is already fit to show a shopper. */
class ShopError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}

// ---------- HTTP ----------

async function api(path, { method = "GET", query, body, idempotent = false } = {}) {
  const url = new URL(String(config.apiUrl).replace(/\/$/, "") + path);
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // A fresh key per click: if the request is replayed, the shop applies it only once.
  if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ShopError("Cannot reach the shop. Is it running?");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ShopError(describeProblem(data, response.status), response.status);
  return data;
}

function describeProblem(problem, status) {
  if (!problem || typeof problem.detail !== "string" || !problem.detail) {
    return `The shop could not handle that (error ${status}). Please try again.`;
  }
  const { detail, field } = problem;
  const label = FIELD_LABELS[field];
  if (!label) return capitalize(detail);
  // Validation details start with the raw field name ("amount must be positive"); use the label instead.
  return detail.startsWith(`${field} `) ? label + detail.slice(field.length) : `${label}: ${detail}`;
}

const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);

// ---------- Messages ----------

function notify(text, kind = "info") {
  // Repeating the newest message moves it back to the top rather than stacking copies.
  const top = ui.messages.firstElementChild;
  if (top && top.textContent === text && top.classList.contains(kind)) top.remove();
  const item = document.createElement("div");
  item.className = `message ${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  item.textContent = text;
  ui.messages.prepend(item);
  while (ui.messages.children.length > MAX_MESSAGES) ui.messages.lastElementChild.remove();
}

function report(error, byStatus = {}) {
  if (!(error instanceof ShopError)) {
    console.error(error);
    notify("Something went wrong on this page. Please reload it.", "error");
    return;
  }
  const [text, kind] = byStatus[error.status] ?? [error.message, "error"];
  notify(text, kind);
}

// ---------- User id and view ----------

function readUserId() {
  const id = ui.userId.value.trim().toLowerCase();
  if (!id) throw new ShopError("Enter a user id or generate one.");
  if (!UUID.test(id)) throw new ShopError("User id must be a UUID");
  view(id);
  return id;
}

function readAmount(input) {
  if (input.value === "") {
    throw new ShopError(input.validity.badInput ? "Amount must be a number" : "Enter an amount.");
  }
  return Number(input.value);
}

/** Switches the page to another user: their data replaces the last one's, and the old socket goes. */
function view(id) {
  if (id === viewing) return;
  disconnect();
  viewing = id;
  balance = null;
  orders.clear();
  render();
}

function remember(id) {
  try {
    localStorage.setItem(STORAGE_KEY, id);
  } catch {
    // Storage may be off (private mode); the page still works, it just forgets the id.
  }
}

function recalled() {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? "";
  } catch {
    return "";
  }
}

// ---------- Orders and balance ----------

function upsertOrder(order) {
  const known = orders.get(order.id);
  // Frames and HTTP answers race: a late "NEW" must not undo a FINISHED/CANCELLED already seen.
  if (known && known.status !== "NEW" && order.status === "NEW") return;
  orders.set(order.id, { ...known, ...order });
}

function replaceOrders(list) {
  const previous = new Map(orders);
  orders.clear();
  for (const order of list) {
    const known = previous.get(order.id);
    orders.set(order.id, known && known.status !== "NEW" && order.status === "NEW" ? known : order);
  }
}

function fromFrame(frame) {
  const order = {
    id: frame.order_id,
    status: frame.status,
    reason: frame.reason ?? null,
    amount: frame.amount,
    description: frame.description,
    updated_at: frame.updated_at,
    // An order first seen in a frame (e.g. placed in another tab) has no created_at of its own.
    created_at: orders.get(frame.order_id)?.created_at ?? frame.updated_at,
  };
  // A field missing from the frame must not wipe what the list already knows.
  return Object.fromEntries(Object.entries(order).filter(([, value]) => value !== undefined));
}

const timeOf = (order) => Date.parse(order.created_at ?? order.updated_at) || 0;

function render() {
  ui.balance.textContent = balance === null || balance === undefined ? "—" : String(balance);
  const sorted = [...orders.values()].sort((a, b) => timeOf(b) - timeOf(a));
  ui.orders.replaceChildren(...sorted.map(orderRow));
  ui.ordersEmpty.hidden = sorted.length > 0;
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

  row.append(main, meta);
  return row;
}

function textEl(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** The HTTP side of a resync: right even when the server never answers {"action":"sync"}. */
async function refresh(userId, { quiet = false } = {}) {
  const [list, account] = await Promise.allSettled([
    api("/api/orders", { query: { user_id: userId } }),
    api("/api/payments/balance", { query: { user_id: userId } }),
  ]);
  if (userId !== viewing) return;
  if (list.status === "fulfilled" && Array.isArray(list.value)) replaceOrders(list.value);
  else if (list.status === "rejected" && !quiet) report(list.reason);
  if (account.status === "fulfilled") balance = account.value.balance;
  else if (account.reason.status === 404) balance = null;
  if (account.status === "rejected" && !quiet) report(account.reason, { 404: [NO_ACCOUNT, "error"] });
  render();
}

// ---------- WebSocket ----------

function setState(state) {
  ui.state.dataset.state = state;
  ui.state.textContent = state;
}

function connect(userId, quiet = false) {
  clearTimeout(retryTimer);
  if (socket) {
    const old = socket;
    socket = null;
    old.close();
  }
  setState(retries === 0 ? "connecting" : "reconnecting");
  const url = new URL(config.wsUrl);
  url.searchParams.set("user_id", userId);
  const ws = new WebSocket(url.href);
  socket = ws;
  let opened = false;

  ws.onopen = () => {
    if (ws !== socket) return;
    opened = true;
    retries = 0;
    setState("live");
    ws.send(JSON.stringify({ action: "sync" }));
    refresh(userId, { quiet });
  };
  ws.onmessage = (event) => {
    if (ws === socket) handleFrame(event.data);
  };
  ws.onclose = () => {
    if (ws !== socket) return;
    socket = null;
    if (opened) notify("Connection lost. Reconnecting…");
    else if (retries === 0) notify("Cannot reach the live updates. Retrying…", "error");
    const delay = Math.min(FIRST_RETRY_MS * 2 ** retries, MAX_RETRY_MS);
    retries += 1;
    setState("reconnecting");
    // Later attempts stay quiet: the shopper already knows, and errors would repeat each time.
    retryTimer = setTimeout(() => connect(userId, true), delay);
  };
}

function disconnect() {
  clearTimeout(retryTimer);
  retries = 0;
  if (socket) {
    const old = socket;
    socket = null;
    old.close();
  }
  setState("offline");
}

function handleFrame(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return; // Not ours to understand; the HTTP resync keeps the page right anyway.
  }
  if (frame?.type === "ORDER_UPDATED") {
    // Frames may be delivered twice; only a real change deserves a notice.
    const changed = orders.get(frame.order_id)?.status !== frame.status;
    upsertOrder(fromFrame(frame));
    const name = frame.description || "your order";
    if (changed && frame.status === "FINISHED") notify(`Order paid: ${name}`);
    if (changed && frame.status === "CANCELLED") {
      notify(`Order cancelled: ${name} - ${REASONS[frame.reason] ?? "the payment did not go through"}`, "error");
    }
  } else if (frame?.type === "BALANCE_UPDATED" && frame.user_id === viewing) {
    balance = frame.balance;
  } else if (frame?.type === "SNAPSHOT") {
    if (Array.isArray(frame.orders)) replaceOrders(frame.orders);
    balance = frame.balance;
  } else {
    return;
  }
  render();
}

// ---------- Actions ----------

/** Runs one click at a time per button, so a double click cannot send twice. */
function onClick(button, action) {
  return async (event) => {
    event?.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    try {
      await action();
    } catch (error) {
      report(error);
    } finally {
      button.disabled = false;
    }
  };
}

function generateUser() {
  ui.userId.value = crypto.randomUUID();
  remember(ui.userId.value);
  view(ui.userId.value);
  notify("New user id generated. Create the account next.");
}

async function createAccount() {
  const userId = readUserId();
  try {
    const created = await api("/api/payments/create_account", { method: "POST", body: { user_id: userId } });
    if (userId === viewing) balance = created.balance;
    notify(`Account created. Balance: ${created.balance}.`);
    render();
  } catch (error) {
    report(error, { 409: ["This account already exists - you can use it.", "info"] });
  }
}

function connectClicked() {
  const userId = readUserId();
  retries = 0;
  connect(userId);
}

async function deposit() {
  const userId = readUserId();
  const amount = readAmount(ui.depositAmount);
  try {
    const result = await api("/api/payments/deposit", {
      method: "POST", body: { user_id: userId, amount }, idempotent: true,
    });
    if (userId === viewing) balance = result.balance;
    notify(`Deposited ${amount}. Balance: ${result.balance}.`);
    ui.depositAmount.value = "";
    render();
  } catch (error) {
    report(error, { 404: [NO_ACCOUNT, "error"] });
  }
}

async function placeOrder() {
  const userId = readUserId();
  const amount = readAmount(ui.orderAmount);
  const description = ui.orderDescription.value.trim();
  const created = await api("/api/orders", {
    method: "POST", body: { user_id: userId, amount, description }, idempotent: true,
  });
  if (userId === viewing) upsertOrder(created.order);
  const hint = socket && ui.state.dataset.state === "live" ? "" : " Connect to watch its status change live.";
  notify(`Order placed and waiting for payment.${hint}`);
  ui.orderDescription.value = "";
  ui.orderAmount.value = "";
  render();
}

// ---------- Start ----------

function start() {
  if (!config.apiUrl || !config.wsUrl) {
    notify("The page could not load its settings (/config.js). Is the shop running?", "error");
  }
  if (config.docsUrl) ui.docsLink.href = config.docsUrl;
  else ui.docsLink.hidden = true;

  ui.userId.value = recalled();
  ui.userId.addEventListener("change", () => {
    remember(ui.userId.value.trim());
    view(ui.userId.value.trim().toLowerCase());
  });
  ui.generate.addEventListener("click", generateUser);
  ui.createAccount.addEventListener("click", onClick(ui.createAccount, createAccount));
  ui.connect.addEventListener("click", onClick(ui.connect, connectClicked));
  ui.depositForm.addEventListener("submit", onClick(ui.deposit, deposit));
  ui.orderForm.addEventListener("submit", onClick(ui.placeOrder, placeOrder));
  setState("offline");
  render();
}

start();
