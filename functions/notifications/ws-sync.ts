import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import { removeConnection } from "../../shared/notifications/connections.ts";
import { sendSnapshot } from "../../shared/notifications/snapshot.ts";

/** The "sync" route: {"action":"sync"} -> a SNAPSHOT frame on the same connection. */
export const handler = async (event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyResultV2> => {
  const connectionId = event.requestContext.connectionId;
  if ((await sendSnapshot(connectionId)) === "gone") await removeConnection(connectionId);
  return { statusCode: 200 };
};
