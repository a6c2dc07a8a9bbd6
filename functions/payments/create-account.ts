import { createAccountRequest } from "../../shared/contract/http.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { actingUser } from "../../shared/http/auth.ts";
import { jsonBody, parse } from "../../shared/http/request.ts";
import { openAccount } from "../../shared/payments/accounts.ts";

export const handler = httpHandler(async (event, caller) => {
  const { user_id } = parse(createAccountRequest, jsonBody(event));
  const account = await openAccount(actingUser(caller, user_id));
  return { status: 201, body: { message: "Account created", ...account } };
});
