import type middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { bearerToken, verifyAccessToken, type Caller } from "../auth/access-token.ts";
import { config } from "../config.ts";
import { Forbidden, InvalidInput } from "../errors.ts";
import { describeActiveSpan } from "../active-span.ts";

export type { Caller } from "../auth/access-token.ts";

/** The Lambda context of an HTTP handler, with the caller the token names (null when AUTH=off). */
export type CallerContext = Context & { caller?: Caller | null };

/**
 * Middy middleware: every request carries a valid access token (`Authorization: Bearer …`), or it
 * is answered 401 before the handler runs. The handler finds the caller in its context. With
 * AUTH=off the caller is null and requests name their user themselves, as before.
 */
export function authenticate(): middy.MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  CallerContext
> {
  return {
    before: async (request) => {
      if (!config().auth.enabled) {
        request.context.caller = null;
        return;
      }
      const headers = request.event.headers ?? {};
      request.context.caller = await verifyAccessToken(bearerToken(headers.authorization ?? headers.Authorization));
    },
  };
}

/**
 * The user a request acts for. With a token: the token's user; a `user_id` the request names must
 * be that same user (403 otherwise). With AUTH=off: the `user_id` the request names, required.
 */
export function actingUser(caller: Caller | null, named: string | undefined): string {
  if (!caller && !named) throw new InvalidInput("user_id is required", "user_id");
  if (caller && named !== undefined && named !== caller.userId)
    throw new Forbidden("user_id names another user; you can act only on your own account", "user_id");
  const userId = caller?.userId ?? named!;
  describeActiveSpan({ "user.id": userId });
  return userId;
}
