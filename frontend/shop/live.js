import { handleFrame } from "./frames.js";
import { notify } from "./messages.js";
import { refresh } from "./resync.js";
import { config, shop } from "./state.js";
import { setState, ui } from "./ui.js";

// The live feed: one WebSocket, opened again with backoff whenever it closes.

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

let socket = null;
let retryTimer = null;
let retries = 0;

/** Whether the feed is open, so a new order's status will show as it changes. */
export const isLive = () => Boolean(socket) && ui.state.dataset.state === "live";

/** Opens the feed for the session (a first attempt: its failure is told). */
export function connectFirst() {
  retries = 0;
  connect();
}

function connect(quiet = false) {
  clearTimeout(retryTimer);
  if (socket) {
    const old = socket;
    socket = null;
    old.close();
  }
  if (!shop.session) return setState("offline");
  setState(retries === 0 ? "connecting" : "reconnecting");
  const url = new URL(config.wsUrl);
  // The socket's $connect authorizer reads the access token from the query (a browser cannot send headers here).
  if (shop.session.accessToken) url.searchParams.set("token", shop.session.accessToken);
  else url.searchParams.set("user_id", shop.session.userId);
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
    // Jittered: when a server restart drops every tab at once, their retries do not come back at once.
    const delay = Math.min(FIRST_RETRY_MS * 2 ** retries, MAX_RETRY_MS) * (0.5 + Math.random() / 2);
    retries += 1;
    setState("reconnecting");
    // Later attempts stay quiet: the shopper already knows, and errors would repeat each time.
    retryTimer = setTimeout(() => connect(true), delay);
  };
}

export function disconnect() {
  clearTimeout(retryTimer);
  retries = 0;
  if (socket) {
    const old = socket;
    socket = null;
    old.close();
  }
  setState("offline");
}
