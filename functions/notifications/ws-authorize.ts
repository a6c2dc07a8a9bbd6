import { websocketAuthorizer } from "../../shared/handlers/websocket.ts";

/** The WebSocket $connect's REQUEST authorizer: ?token=<access token>. */
export const handler = websocketAuthorizer();
