import { ShopError } from "./state.js";
import { ui } from "./ui.js";

// What the shopper is told, newest first.

const MAX_MESSAGES = 6;

export function notify(text, kind = "info") {
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

export function report(error, byStatus = {}) {
  if (!(error instanceof ShopError)) {
    console.error(error);
    notify("Something went wrong on this page. Please reload it.", "error");
    return;
  }
  const [text, kind] = byStatus[error.status] ?? [error.message, "error"];
  notify(text, kind);
}

export const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);
