import { depositRequest } from "../../shared/contract/http.ts";
import { httpHandler, replayHeaders } from "../../shared/handlers/http.ts";
import { actingUser } from "../../shared/http/auth.ts";
import { idempotencyKeyOf, jsonBody, parse } from "../../shared/http/request.ts";
import { deposit } from "../../shared/payments/accounts.ts";

export const handler = httpHandler(async (event, caller) => {
  const { user_id, amount } = parse(depositRequest, jsonBody(event));
  const { result: account, replayed } = await deposit(actingUser(caller, user_id), amount, idempotencyKeyOf(event));
  return { status: 200, headers: replayHeaders(replayed), body: { message: "Balance updated", ...account } };
});
