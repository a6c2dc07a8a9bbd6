import { config, shop, ShopError } from "./state.js";
import { capitalize } from "./messages.js";

// The shop's HTTP API.

const FIELD_LABELS = { amount: "Amount", description: "Description" };

/** Renews the access token after a 401 (set by the page's start: the session's refresh). */
let renewSession = async () => undefined;
export function renewSessionWith(renew) {
  renewSession = renew;
}

export async function request(path, { method = "GET", query, body, idempotent = false } = {}, retried = false) {
  const url = new URL(String(config.apiUrl).replace(/\/$/, "") + path);
  // Signed in, the token says who we are; with sign-in off (AUTH=off), the guest's id does.
  const user = shop.session?.accessToken ? {} : { user_id: shop.session?.userId };
  for (const [key, value] of Object.entries({ ...(method === "GET" ? user : {}), ...query }))
    if (value !== undefined) url.searchParams.set(key, value);
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (shop.session?.accessToken) headers.Authorization = `Bearer ${shop.session.accessToken}`;
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
  if (response.status === 401 && shop.session?.refreshToken && !retried) {
    await renewSession();
    if (shop.session) return request(path, { method, query, body, idempotent }, true);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ShopError(describeProblem(data, response.status), response.status);
  return { data, headers: response.headers };
}

export const api = async (path, options) => (await request(path, options)).data;

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
