import { userQuery } from "../../shared/contract/http.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { actingUser } from "../../shared/http/auth.ts";
import { parse, queryOf } from "../../shared/http/request.ts";
import { balanceOf } from "../../shared/payments/accounts.ts";

export const handler = httpHandler(async (event, caller) => {
  const { user_id } = parse(userQuery, queryOf(event));
  return { status: 200, body: await balanceOf(actingUser(caller, user_id)) };
});
