import { userQuery } from "../../shared/http/contract.ts";
import { httpHandler } from "../../shared/http/handler.ts";
import { parse, queryOf } from "../../shared/http/request.ts";
import { balanceOf } from "../../shared/payments/accounts.ts";

export const handler = httpHandler(async (event) => {
  const { user_id } = parse(userQuery, queryOf(event));
  return { status: 200, body: await balanceOf(user_id) };
});
