import { orderPath } from "../../shared/contract/http.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { parse } from "../../shared/http/request.ts";
import { findOrder } from "../../shared/orders/orders.ts";

/** Someone else's order is answered as if it did not exist (404). */
export const handler = httpHandler(async (event, caller) => {
  const { id } = parse(orderPath, event.pathParameters ?? {});
  return { status: 200, body: await findOrder(id, caller?.userId) };
});
