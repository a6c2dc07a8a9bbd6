import { openAccountIfNeeded } from "./account.js";
import { cognito, sessionFrom } from "./cognito.js";
import { connectFirst, disconnect } from "./live.js";
import { notify } from "./messages.js";
import { render } from "./render.js";
import { config, forgetShop, shop, ShopError } from "./state.js";
import { showShop, ui } from "./ui.js";

// Who is shopping: entering the shop, keeping the session across reloads, renewing its token, leaving.

const SESSION_KEY = "gozon.session";
const GUEST_KEY = "gozon.guestId";
/** Refresh the access token this long before it expires. */
export const REFRESH_EARLY_MS = 60_000;

let refreshTimer = null;

export async function signIn(email, password) {
  const { AuthenticationResult: result } = await cognito("InitiateAuth", {
    ClientId: config.signIn.clientId,
    AuthFlow: "USER_PASSWORD_AUTH",
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  await enter(sessionFrom(email, result));
}

/** A new access token from the refresh token, before the old one expires; signed out if that fails. */
export async function refreshSession() {
  if (!shop.session?.refreshToken) return;
  try {
    const { AuthenticationResult: result } = await cognito("InitiateAuth", {
      ClientId: config.signIn.clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: shop.session.refreshToken },
    });
    shop.session = sessionFrom(shop.session.email, result, shop.session.refreshToken);
    keep(shop.session);
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
  if (shop.session?.refreshToken)
    refreshTimer = setTimeout(refreshSession, Math.max(shop.session.expiresAt - Date.now() - REFRESH_EARLY_MS, 0));
}

function keep(value) {
  try {
    if (value) localStorage.setItem(SESSION_KEY, JSON.stringify(value));
    else localStorage.removeItem(SESSION_KEY);
  } catch {
    // Storage may be off (private mode): the session then lasts as long as the page.
  }
}

/** The session this browser kept from a visit before, if any. */
export function kept() {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? "null");
    return value?.accessToken && value?.refreshToken ? value : null;
  } catch {
    return null;
  }
}

/** With sign-in off: a guest whose id this browser keeps. */
export function guest() {
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
export async function enter(next) {
  shop.session = next;
  if (shop.session.accessToken) keep(shop.session);
  scheduleRefresh();
  forgetShop();
  ui.signedInAs.textContent = shop.session.email ?? `guest ${shop.session.userId} (sign-in is off: AUTH=off)`;
  showShop(true);
  render();
  await openAccountIfNeeded();
  connectFirst();
}

export async function signOut(message = "Signed out.") {
  const ending = shop.session;
  shop.session = null;
  clearTimeout(refreshTimer);
  keep(null);
  disconnect();
  forgetShop();
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
