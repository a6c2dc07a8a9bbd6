import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import { userQuery } from "../../shared/http/contract.ts";
import { parse } from "../../shared/http/request.ts";
import { DomainError } from "../../shared/errors.ts";
import { addConnection } from "../../shared/notifications/connections.ts";

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & { queryStringParameters?: Record<string, string | undefined> };

/** $connect?user_id=<uuid>: remembers the connection for the user; a bad id refuses the handshake. */
export const handler = async (event: ConnectEvent): Promise<APIGatewayProxyResultV2> => {
  try {
    const { user_id } = parse(userQuery, event.queryStringParameters ?? {});
    await addConnection(event.requestContext.connectionId, user_id);
    return { statusCode: 200 };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { statusCode: error.status, body: JSON.stringify({ title: error.title, status: error.status, detail: error.detail, field: error.field }) };
  }
};
