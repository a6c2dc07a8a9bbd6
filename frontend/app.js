// Gozon Async Shop: a shopper's page over the HTTP API plus a live WebSocket feed, behind sign-in
// (Amazon Cognito, or cognito-local when run on this machine). Server data only ever reaches the
// page through textContent, never innerHTML.

const config = window.GOZON_CONFIG ?? {};
const SESSION_KEY = "gozon.session";
const GUEST_KEY = "gozon.guestId";
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
const MAX_MESSAGES = 6;
/** Refresh the access token this long before it expires. */
const REFRESH_EARLY_MS = 60_000;

const REASONS = {
  insufficient_funds: "Not enough money on the account",
  account_not_found: "No account for this user",
  invalid_amount: "Invalid amount",
};
const FIELD_LABELS = { amount: "Amount", description: "Description" };
const STATUSES = new Set(["NEW", "FINISHED", "CANCELLED"]);
/** What Cognito's errors mean to a shopper. */
const SIGN_IN_ERRORS = {
  NotAuthorizedException: "Wrong e-mail or password.",
  UserNotFoundException: "Wrong e-mail or password.",
  UsernameExistsException: "There is already an account with this e-mail. Sign in instead.",
  InvalidPasswordException: "Choose a longer password (8 characters or more).",
  CodeMismatchException: "That code is not right. Check the e-mail and try again.",
  ExpiredCodeException: "That code has expired. Create the account again to get a new one.",
  TooManyRequestsException: "Too many attempts. Wait a moment and try again.",
  LimitExceededException: "Too many attempts. Wait a moment and try again.",
};

const $ = (id) => document.getElementById(id);
const ui = {
  state: $("connection-state"),
  docsLink: $("docs-link"),
  signInCard: $("sign-in-card"),
  signInForm: $("sign-in-form"),
  email: $("email"),
  password: $("password"),
  signIn: $("sign-in"),
  signUp: $("sign-up"),
  confirmForm: $("confirm-form"),
  confirmEmail: $("confirm-email"),
  confirmCode: $("confirm-code"),
  confirm: $("confirm"),
  confirmCancel: $("confirm-cancel"),
  shop: $("shop"),
  signedInAs: $("signed-in-as"),
  copyToken: $("copy-token"),
  signOut: $("sign-out"),
  balance: $("balance"),
  depositForm: $("deposit-form"),
  depositAmount: $("deposit-amount"),
  deposit: $("deposit"),
  orderForm: $("order-form"),
  orderDescription: $("order-description"),
  orderAmount: $("order-amount"),
  placeOrder: $("place-order"),
  ordersCard: $("orders-card"),
  orders: $("orders"),
  ordersEmpty: $("orders-empty"),
  olderOrders: $("older-orders"),
  messages: $("messages"),
};

/**
 * Who is shopping. Signed in: { userId, email, accessToken, refreshToken, expiresAt }. With the shop
 * run open (AUTH=off) a guest: { userId } with an id of its own, kept in this browser.
 */
let session = null;
let refreshTimer = null;
let balance = null;
/** The version of the balance last pushed: frames from two consumers can arrive out of order, and the highest wins. */
let balanceVersion = -1;
const orders = new Map();
/** Where the next page of older orders starts; null when all are shown. */
let olderCursor = null;
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

// ---------- Sign-in (the Cognito API, called from the page) ----------

const signInOn = () => Boolean(config.signIn);

async function cognito(action, body) {
  const endpoint = config.signIn.endpoint;
  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
      },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ShopError("Cannot reach the sign-in service. Is the shop running?");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const type = String(data.__type ?? "")
      .split("#")
      .pop();
    throw new ShopError(
      SIGN_IN_ERRORS[type] ?? data.message ?? `Sign-in failed (error ${response.status}).`,
      response.status,
    );
  }
  return data;
}

/** The claims of a token we were just given (the API checks its signature; the page only reads it). */
function claimsOf(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")));
}

function sessionFrom(email, result, refreshToken) {
  const claims = claimsOf(result.AccessToken);
  return {
    userId: claims.sub,
    email,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken ?? refreshToken,
    // The token's own expiry (ExpiresIn is not in every answer).
    expiresAt: claims.exp * 1000,
  };
}

async function signIn(email, password) {
  const { AuthenticationResult: result } = await cognito("InitiateAuth", {
    ClientId: config.signIn.clientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  await enter(sessionFrom(email, result));
}

/** A new access token from the refresh token, before the old one expires; signed out if that fails. */
async function refreshSession() {
  if (!session?.refreshToken) return;
  try {
    const { AuthenticationResult: result } = await cognito("InitiateAuth", {
      ClientId: config.signIn.clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: session.refreshToken },
    });
    session = sessionFrom(session.email, result, session.refreshToken);
    keep(session);
    scheduleRefresh();
  } catch (error) {
    if (error instanceof ShopError && error.status >= 400 && error.status < 500) {
      await signOut("Your session has ended. Please sign in again.");
    } else {
      // The sign-in service is away for now: try again shortly, while the token still works.
      refreshTimer = setTimeout(refreshSession, 10_000);
    }
  }
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (session?.refreshToken)
    refreshTimer = setTimeout(refreshSession, Math.max(session.expiresAt - Date.now() - REFRESH_EARLY_MS, 0));
}

function keep(value) {
  try {
    if (value) localStorage.setItem(SESSION_KEY, JSON.stringify(value));
    else localStorage.removeItem(SESSION_KEY);
  } catch {
    // Storage may be off (private mode): the session then lasts as long as the page.
  }
}

function kept() {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null");
    return value?.accessToken && value?.refreshToken ? value : null;
  } catch {
    return null;
  }
}

function guest() {
  let id = null;
  try {
    id = localStorage.getItem(GUEST_KEY);
    if (!id) localStorage.setItem(GUEST_KEY, (id = crypto.randomUUID()));
  } catch {
    id ??= crypto.randomUUID();
  }
  return { userId: id };
}

/** The shop for this session: the account (opened on first visit), the orders, the live feed. */
async function enter(next) {
  session = next;
  if (session.accessToken) keep(session);
  scheduleRefresh();
  balance = null;
  balanceVersion = -1;
  orders.clear();
  olderCursor = null;
  ui.signedInAs.textContent = session.email ?? `guest ${session.userId} (sign-in is off: AUTH=off)`;
  showShop(true);
  render();
  await openAccountIfNeeded();
  retries = 0;
  connect();
}

async function openAccountIfNeeded() {
  try {
    balance = (await api("/api/payments/balance")).balance;
  } catch (error) {
    if (!(error instanceof ShopError) || error.status !== 404) return report(error);
    try {
      balance = (await api("/api/payments/create_account", { method: "POST", body: {} })).balance;
      notify("Your account is open. Deposit some money to start shopping.");
    } catch (openError) {
      if (openError.status !== 409) report(openError);
    }
  }
  render();
}

async function signOut(message = "Signed out.") {
  const ending = session;
  session = null;
  clearTimeout(refreshTimer);
  keep(null);
  disconnect();
  balance = null;
  balanceVersion = -1;
  orders.clear();
  olderCursor = null;
  showShop(false);
  render();
  notify(message);
  if (ending?.refreshToken) {
    // Ends the refresh token at the identity provider too; the page has forgotten it either way.
    await cognito("RevokeToken", { ClientId: config.signIn.clientId, Token: ending.refreshToken }).catch(
      () => undefined,
    );
  }
}

function showShop(on) {
  ui.shop.hidden = !on;
  ui.ordersCard.hidden = !on;
  ui.signInCard.hidden = on || !signInOn();
  ui.copyToken.hidden = !signInOn();
  ui.signOut.hidden = !signInOn();
  if (!on) showConfirm(null);
}

function showConfirm(email) {
  ui.confirmForm.hidden = !email;
  ui.signInForm.hidden = Boolean(email);
  ui.confirmEmail.textContent = email ?? "";
  ui.confirmCode.value = "";
  if (email) ui.confirmCode.focus();
}

function readCredentials() {
  const email = ui.email.value.trim();
  const password = ui.password.value;
  if (!email || !email.includes("@")) throw new ShopError("Enter your e-mail address.");
  if (password.length < 8) throw new ShopError("Enter your password (8 characters or more).");
  return { email, password };
}

async function signInClicked() {
  const { email, password } = readCredentials();
  try {
    await signIn(email, password);
    ui.password.value = "";
  } catch (error) {
    if (error instanceof ShopError && /confirm/i.test(error.message)) showConfirm(email);
    throw error;
  }
}

async function signUpClicked() {
  const { email, password } = readCredentials();
  const result = await cognito("SignUp", {
    ClientId: config.signIn.clientId,
    Username: email,
    Password: password,
    UserAttributes: [{ Name: "email", Value: email }],
  });
  if (result.UserConfirmed) return signIn(email, password);
  showConfirm(email);
  notify(`We sent a confirmation code to ${email}.`);
}

async function confirmClicked() {
  const email = ui.confirmEmail.textContent;
  const code = ui.confirmCode.value.trim();
  if (!code) throw new ShopError("Enter the confirmation code from the e-mail.");
  await cognito("ConfirmSignUp", { ClientId: config.signIn.clientId, Username: email, ConfirmationCode: code });
  showConfirm(null);
  await signIn(email, ui.password.value);
  ui.password.value = "";
}

async function copyToken() {
  try {
    await navigator.clipboard.writeText(session.accessToken);
    notify("Access token copied: paste it into the API docs' Authorize button. It expires within the hour.");
  } catch {
    notify("This browser did not allow copying.", "error");
  }
}

// ---------- HTTP ----------

async function request(path, { method = "GET", query, body, idempotent = false } = {}, retried = false) {
  const url = new URL(String(config.apiUrl).replace(/\/$/, "") + path);
  // Signed in, the token says who we are; with sign-in off (AUTH=off), the guest's id does.
  const user = session?.accessToken ? {} : { user_id: session?.userId };
  for (const [key, value] of Object.entries({ ...(method === "GET" ? user : {}), ...query }))
    if (value !== undefined) url.searchParams.set(key, value);
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session?.accessToken) headers.Authorization = `Bearer ${session.accessToken}`;
  // A fresh key per click: if the request is replayed, the shop applies it only once.
  if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID();
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify({ ...user, ...body }),
    });
  } catch {
    throw new ShopError("Cannot reach the shop. Is it running?");
  }
  if (response.status === 401 && session?.refreshToken && !retried) {
    await refreshSession();
    if (session) return request(path, { method, query, body, idempotent }, true);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ShopError(describeProblem(data, response.status), response.status);
  return { data, headers: response.headers };
}

const api = async (path, options) => (await request(path, options)).data;

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

function readAmount(input) {
  if (input.value === "") {
    throw new ShopError(input.validity.badInput ? "Amount must be a number" : "Enter an amount.");
  }
  return Number(input.value);
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
  ui.olderOrders.hidden = !olderCursor;
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

function textEl(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

/** The HTTP side of a resync: right even when the server never answers {"action":"sync"}. */
async function refresh({ quiet = false } = {}) {
  const viewing = session;
  const [list, account] = await Promise.allSettled([request("/api/orders"), api("/api/payments/balance")]);
  if (session !== viewing) return;
  if (list.status === "fulfilled" && Array.isArray(list.value.data)) {
    replaceOrders(list.value.data);
    olderCursor = list.value.headers.get("next-cursor");
  } else if (list.status === "rejected" && !quiet) report(list.reason);
  if (account.status === "fulfilled") balance = account.value.balance;
  else if (!quiet) report(account.reason);
  render();
}

async function showOlderOrders() {
  if (!olderCursor) return;
  const viewing = session;
  const page = await request("/api/orders", { query: { cursor: olderCursor } });
  if (session !== viewing) return;
  for (const order of page.data) upsertOrder(order);
  olderCursor = page.headers.get("next-cursor");
  render();
}

// ---------- WebSocket ----------

function setState(state) {
  ui.state.dataset.state = state;
  ui.state.textContent = state;
}

function connect(quiet = false) {
  clearTimeout(retryTimer);
  if (socket) {
    const old = socket;
    socket = null;
    old.close();
  }
  if (!session) return setState("offline");
  setState(retries === 0 ? "connecting" : "reconnecting");
  const url = new URL(config.wsUrl);
  // The socket's $connect authorizer reads the access token from the query (a browser cannot send headers here).
  if (session.accessToken) url.searchParams.set("token", session.accessToken);
  else url.searchParams.set("user_id", session.userId);
  const ws = new WebSocket(url.href);
  socket = ws;
  let opened = false;

  ws.onopen = () => {
    if (ws !== socket) return;
    opened = true;
    retries = 0;
    setState("live");
    ws.send(JSON.stringify({ action: "sync" }));
    refresh({ quiet });
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
    retryTimer = setTimeout(() => connect(true), delay);
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

function pushedBalance(value, version = 0) {
  if (version < balanceVersion) return;
  balanceVersion = version;
  balance = value;
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
    // The balance an order's payment left rides on its frame.
    if (typeof frame.balance === "number") pushedBalance(frame.balance, frame.balance_version);
    const name = frame.description || "your order";
    if (changed && frame.status === "FINISHED") notify(`Order paid: ${name}`);
    if (changed && frame.status === "CANCELLED") {
      notify(`Order cancelled: ${name} - ${REASONS[frame.reason] ?? "the payment did not go through"}`, "error");
    }
  } else if (frame?.type === "BALANCE_UPDATED" && frame.user_id === session?.userId) {
    pushedBalance(frame.balance, frame.version);
  } else if (frame?.type === "SNAPSHOT") {
    if (Array.isArray(frame.orders)) replaceOrders(frame.orders);
    olderCursor = frame.next_cursor ?? null;
    balance = frame.balance ?? balance;
  } else if (frame?.type === "PROBLEM") {
    // A sync refused for coming too fast changes nothing: the page is already current.
    if (frame.status !== 429) notify(capitalize(String(frame.detail ?? "The live feed refused a message.")), "error");
    return;
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

async function deposit() {
  const amount = readAmount(ui.depositAmount);
  const viewing = session;
  const result = await api("/api/payments/deposit", { method: "POST", body: { amount }, idempotent: true });
  if (session === viewing) balance = result.balance;
  notify(`Deposited ${amount}. Balance: ${result.balance}.`);
  ui.depositAmount.value = "";
  render();
}

async function placeOrder() {
  const amount = readAmount(ui.orderAmount);
  const description = ui.orderDescription.value.trim();
  const viewing = session;
  const created = await api("/api/orders", { method: "POST", body: { amount, description }, idempotent: true });
  if (session === viewing) upsertOrder(created.order);
  const hint = socket && ui.state.dataset.state === "live" ? "" : " Its status will show once the live feed is back.";
  notify(`Order placed and waiting for payment.${hint}`);
  ui.orderDescription.value = "";
  ui.orderAmount.value = "";
  render();
}

// ---------- Start ----------

async function start() {
  if (!config.apiUrl || !config.wsUrl) {
    notify("The page could not load its settings (/config.js). Is the shop running?", "error");
  }
  if (config.docsUrl) ui.docsLink.href = config.docsUrl;
  else ui.docsLink.hidden = true;

  ui.signInForm.addEventListener("submit", onClick(ui.signIn, signInClicked));
  ui.signUp.addEventListener("click", onClick(ui.signUp, signUpClicked));
  ui.confirmForm.addEventListener("submit", onClick(ui.confirm, confirmClicked));
  ui.confirmCancel.addEventListener("click", () => showConfirm(null));
  ui.signOut.addEventListener(
    "click",
    onClick(ui.signOut, () => signOut()),
  );
  ui.copyToken.addEventListener("click", onClick(ui.copyToken, copyToken));
  ui.depositForm.addEventListener("submit", onClick(ui.deposit, deposit));
  ui.orderForm.addEventListener("submit", onClick(ui.placeOrder, placeOrder));
  ui.olderOrders.addEventListener("click", onClick(ui.olderOrders, showOlderOrders));
  setState("offline");
  render();

  if (!signInOn()) return enter(guest());
  const stored = kept();
  if (!stored) return showShop(false);
  session = stored;
  // A token that is (about to be) expired is renewed before anything is asked with it.
  if (stored.expiresAt - Date.now() < REFRESH_EARLY_MS) await refreshSession();
  if (session) await enter(session);
}

start().catch(report);
