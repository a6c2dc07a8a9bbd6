import { userQuery } from "../../shared/contract/http.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { parse, queryOf } from "../../shared/http/request.ts";
import { listOrders } from "../../shared/orders/orders.ts";

export const handler = httpHandler(async (event) => {
  const { user_id } = parse(userQuery, queryOf(event));
  return { status: 200, body: await listOrders(user_id) };
});
