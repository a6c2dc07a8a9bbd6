import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import { responseForError } from "../http/problem.ts";

export type WebsocketEvent = APIGatewayProxyWebsocketEventV2 & { queryStringParameters?: Record<string, string | undefined> };

/**
 * Wraps a WebSocket route handler: any error becomes an answer (a refused handshake for $connect,
 * a logged failure for the other routes), mapped exactly as HTTP errors are.
 */
export function websocketHandler(handle: (event: WebsocketEvent) => Promise<void>) {
  return async (event: WebsocketEvent): Promise<APIGatewayProxyResultV2> => {
    try {
      await handle(event);
      return { statusCode: 200 };
    } catch (error) {
      return responseForError(error, `websocket ${event.requestContext.routeKey}`);
    }
  };
}
