import { createAccountRequest } from "../../shared/http/contract.ts";
import { httpHandler } from "../../shared/http/handler.ts";
import { jsonBody, parse } from "../../shared/http/request.ts";
import { openAccount } from "../../shared/payments/accounts.ts";

export const handler = httpHandler(async (event) => {
  const { user_id } = parse(createAccountRequest, jsonBody(event));
  const account = await openAccount(user_id);
  return { status: 201, body: { message: "Account created", ...account } };
});
