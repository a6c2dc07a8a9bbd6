import { encodeOrderCursor, listOrdersQuery, ORDERS_PAGE } from "../../shared/contract/http.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { actingUser } from "../../shared/http/auth.ts";
import { parse, queryOf } from "../../shared/http/request.ts";
import { listOrders } from "../../shared/orders/orders.ts";

/** A page of the caller's orders, newest first; Next-Cursor names the next page when there is one. */
export const handler = httpHandler(async (event, caller) => {
  const { user_id, limit, cursor } = parse(listOrdersQuery, queryOf(event));
  const page = await listOrders(actingUser(caller, user_id), { limit: limit ?? ORDERS_PAGE, after: cursor });
  const headers: Record<string, string> = page.next ? { "next-cursor": encodeOrderCursor(page.next) } : {};
  return { status: 200, headers, body: page.orders };
});
