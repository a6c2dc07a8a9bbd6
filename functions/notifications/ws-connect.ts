import { userQuery } from "../../shared/contract/http.ts";
import { callerOf, websocketHandler } from "../../shared/handlers/websocket.ts";
import { actingUser } from "../../shared/http/auth.ts";
import { parse } from "../../shared/http/request.ts";
import { addConnection } from "../../shared/notifications/connections.ts";

/**
 * $connect, once the authorizer let the caller in: remembers the connection for the token's user
 * (with AUTH=off, for ?user_id=<uuid>). A bad id, or one socket too many, refuses the handshake.
 */
export const handler = websocketHandler(async (event) => {
  const { user_id } = parse(userQuery, event.queryStringParameters ?? {});
  await addConnection(event.requestContext.connectionId, actingUser(callerOf(event), user_id));
});
