import { userQuery } from "../../shared/contract/http.ts";
import { websocketHandler } from "../../shared/handlers/websocket.ts";
import { parse } from "../../shared/http/request.ts";
import { addConnection } from "../../shared/notifications/connections.ts";

/** $connect?user_id=<uuid>: remembers the connection for the user; a bad id refuses the handshake. */
export const handler = websocketHandler(async (event) => {
  const { user_id } = parse(userQuery, event.queryStringParameters ?? {});
  await addConnection(event.requestContext.connectionId, user_id);
});
