import { api } from "./api.js";
import { notify, report } from "./messages.js";
import { render } from "./render.js";
import { shop, ShopError } from "./state.js";
import { readAmount, ui } from "./ui.js";

// The shopper's account: opened on the first visit, topped up by deposits.

export async function openAccountIfNeeded() {
  try {
    shop.balance = (await api("/api/payments/balance")).balance;
  } catch (error) {
    if (!(error instanceof ShopError) || error.status !== 404) return report(error);
    try {
      shop.balance = (await api("/api/payments/create_account", { method: "POST", body: {} })).balance;
      notify("Your account is open. Deposit some money to start shopping.");
    } catch (openError) {
      if (openError.status !== 409) report(openError);
    }
  }
  render();
}

export async function deposit() {
  const amount = readAmount(ui.depositAmount);
  const viewing = shop.session;
  const result = await api("/api/payments/deposit", { method: "POST", body: { amount }, idempotent: true });
  if (shop.session === viewing) shop.balance = result.balance;
  notify(`Deposited ${amount}. Balance: ${result.balance}.`);
  ui.depositAmount.value = "";
  render();
}
