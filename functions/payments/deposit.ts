import { depositRequest } from "../../shared/http/contract.ts";
import { httpHandler, replayHeaders } from "../../shared/http/handler.ts";
import { idempotencyKeyOf, jsonBody, parse } from "../../shared/http/request.ts";
import { deposit } from "../../shared/payments/accounts.ts";

export const handler = httpHandler(async (event) => {
  const { user_id, amount } = parse(depositRequest, jsonBody(event));
  const { result: account, replayed } = await deposit(user_id, amount, idempotencyKeyOf(event));
  return { status: 200, headers: replayHeaders(replayed), body: { message: "Balance updated", ...account } };
});
