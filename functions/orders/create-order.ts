import { createOrderRequest } from "../../shared/contract/http.ts";
import { httpHandler, replayHeaders } from "../../shared/handlers/http.ts";
import { actingUser } from "../../shared/http/auth.ts";
import { idempotencyKeyOf, jsonBody, parse } from "../../shared/http/request.ts";
import { placeOrder } from "../../shared/orders/orders.ts";

export const handler = httpHandler(async (event, caller) => {
  const input = parse(createOrderRequest, jsonBody(event));
  const { result: order, replayed } = await placeOrder(
    { userId: actingUser(caller, input.user_id), amount: input.amount, description: input.description },
    idempotencyKeyOf(event),
  );
  return {
    status: 201,
    headers: { location: `/api/orders/${order.id}`, ...replayHeaders(replayed) },
    body: { message: "Order created and awaiting payment", order_id: order.id, status: order.status, order },
  };
});
