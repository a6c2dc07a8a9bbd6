// What the page knows: its settings and the shop as last seen. Every module reads and changes the
// same object, so there is one copy of each fact.

export const config = window.GOZON_CONFIG ?? {};

/** Sign-in is on unless the shop runs open (AUTH=off). */
export const signInOn = () => Boolean(config.signIn);

export const shop = {
  /**
   * Who is shopping. Signed in: { userId, email, accessToken, refreshToken, expiresAt }. With the shop
   * run open (AUTH=off) a guest: { userId } with an id of its own, kept in this browser.
   */
  session: null,
  balance: null,
  /** The version of the balance last pushed: frames from two consumers can arrive out of order, and the highest wins. */
  balanceVersion: -1,
  orders: new Map(),
  /** Where the next page of older orders starts; null when all are shown. */
  olderCursor: null,
};

/** Forgets the shop of the session before: a new one starts from nothing. */
export function forgetShop() {
  shop.balance = null;
  shop.balanceVersion = -1;
  shop.orders.clear();
  shop.olderCursor = null;
}

/** An error whose message is already fit to show a shopper. */
export class ShopError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.status = status;
  }
}
