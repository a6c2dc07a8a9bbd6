import { orderPath } from "../../shared/contract/http.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { parse } from "../../shared/http/request.ts";
import { findOrder } from "../../shared/orders/orders.ts";

export const handler = httpHandler(async (event) => {
  const { id } = parse(orderPath, event.pathParameters ?? {});
  return { status: 200, body: await findOrder(id) };
});
