import { ShopError, signInOn } from "./state.js";

// The page's elements, and what shows or hides its parts. Server data only ever reaches the page
// through textContent, never innerHTML.

const $ = (id) => document.getElementById(id);
export const ui = {
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

export function textEl(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

export function showShop(on) {
  ui.shop.hidden = !on;
  ui.ordersCard.hidden = !on;
  ui.signInCard.hidden = on || !signInOn();
  ui.copyToken.hidden = !signInOn();
  ui.signOut.hidden = !signInOn();
  if (!on) showConfirm(null);
}

export function showConfirm(email) {
  ui.confirmForm.hidden = !email;
  ui.signInForm.hidden = Boolean(email);
  ui.confirmEmail.textContent = email ?? "";
  ui.confirmCode.value = "";
  if (email) ui.confirmCode.focus();
}

/** The live feed's state in the top bar: offline, connecting, live or reconnecting. */
export function setState(state) {
  ui.state.dataset.state = state;
  ui.state.textContent = state;
}

export function readAmount(input) {
  if (input.value === "") {
    throw new ShopError(input.validity.badInput ? "Amount must be a number" : "Enter an amount.");
  }
  return Number(input.value);
}
