// Gozon Async Shop: a shopper's page over the HTTP API plus a live WebSocket feed, behind sign-in
// (Amazon Cognito, or cognito-local when run on this machine). Server data only ever reaches the
// page through textContent, never innerHTML. This module wires the page's buttons to shop/ and
// starts it: the session (shop/session.js), the API (shop/api.js), the live feed (shop/live.js).

import { deposit } from "./shop/account.js";
import { renewSessionWith } from "./shop/api.js";
import { notify, report } from "./shop/messages.js";
import { placeOrder } from "./shop/place-order.js";
import { render } from "./shop/render.js";
import { showOlderOrders } from "./shop/resync.js";
import { enter, guest, kept, REFRESH_EARLY_MS, refreshSession, signOut } from "./shop/session.js";
import { confirmClicked, copyToken, signInClicked, signUpClicked } from "./shop/sign-in.js";
import { config, shop, signInOn } from "./shop/state.js";
import { setState, showConfirm, showShop, ui } from "./shop/ui.js";

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

async function start() {
  if (!config.apiUrl || !config.wsUrl) {
    notify("The page could not load its settings (/config.js). Is the shop running?", "error");
  }
  if (config.docsUrl) ui.docsLink.href = config.docsUrl;
  else ui.docsLink.hidden = true;

  renewSessionWith(refreshSession);
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
  shop.session = stored;
  // A token that is (about to be) expired is renewed before anything is asked with it.
  if (stored.expiresAt - Date.now() < REFRESH_EARLY_MS) await refreshSession();
  if (shop.session) await enter(shop.session);
}

start().catch(report);
