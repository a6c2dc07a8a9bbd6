import { websocketHandler } from "../../shared/handlers/websocket.ts";
import { removeConnection } from "../../shared/notifications/connections.ts";

export const handler = websocketHandler(async (event) => {
  await removeConnection(event.requestContext.connectionId);
});
