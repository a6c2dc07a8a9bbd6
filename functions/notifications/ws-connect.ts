import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import { DomainError } from "../../shared/errors.ts";
import { userQuery } from "../../shared/http/contract.ts";
import { problemResponse, problemOf } from "../../shared/http/problem.ts";
import { parse } from "../../shared/http/request.ts";
import { addConnection } from "../../shared/notifications/connections.ts";

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & { queryStringParameters?: Record<string, string | undefined> };

/** $connect?user_id=<uuid>: remembers the connection for the user; a bad id refuses the handshake. */
export const handler = async (event: ConnectEvent): Promise<APIGatewayProxyResultV2> => {
  try {
    const { user_id } = parse(userQuery, event.queryStringParameters ?? {});
    await addConnection(event.requestContext.connectionId, user_id);
    return { statusCode: 200 };
  } catch (error) {
    if (error instanceof DomainError) return problemResponse(problemOf(error));
    throw error;
  }
};
