import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2, Context } from "aws-lambda";
import { verifyAccessToken, type Caller } from "../auth/access-token.ts";
import { config } from "../config.ts";
import { waitingOutUnavailability } from "../db/unavailable.ts";
import { Unauthorized } from "../errors.ts";
import { problemForError, responseForError } from "../http/problem.ts";
import { logger } from "../logger.ts";
import { pushFrame } from "../notifications/push.ts";
import { inSpan, SpanKind } from "../tracing/spans.ts";
import { invocation } from "./invocations.ts";

export type WebsocketEvent = APIGatewayProxyWebsocketEventV2 & {
  queryStringParameters?: Record<string, string | undefined> | null;
  requestContext: APIGatewayProxyWebsocketEventV2["requestContext"] & { authorizer?: { userId?: unknown } | null };
};

/** The caller $connect's authorizer let in (null when AUTH=off), from the authorizer's context. */
export function callerOf(event: WebsocketEvent): Caller | null {
  if (!config().auth.enabled) return null;
  const userId = event.requestContext.authorizer?.userId;
  if (typeof userId !== "string" || !userId) throw new Unauthorized("This connection was not authorized", "token");
  return { userId };
}

/**
 * How long a route waits out a database that cannot serve it now. A handshake refused with 503 is
 * only tried again by its client, after a second or more, and a burst of a thousand of them (every
 * tab of every user reconnecting) outwaits the pool: $connect waits a few seconds instead.
 * $disconnect is told once and never again, and a connection it fails to forget counts against its
 * user's limit for hours: it waits for as long as the invocation may run.
 */
const WAIT_OUT_MS: Partial<Record<string, number>> = { $connect: 5_000, $disconnect: 20_000 };
const MARGIN_MS = 2_000;

/**
 * Wraps a WebSocket route handler. An error in $connect refuses the handshake with its status (a
 * problem's status: 400, 401, 429, …). An error in any other route is told to that connection as a
 * PROBLEM frame, mapped exactly as HTTP errors are; the connection stays open.
 */
export function websocketHandler(handle: (event: WebsocketEvent) => Promise<void>) {
  return invocation(
    async (
      event: WebsocketEvent,
      context?: Pick<Context, "getRemainingTimeInMillis">,
    ): Promise<APIGatewayProxyResultV2> => {
      const { routeKey, connectionId } = event.requestContext;
      const left = (context?.getRemainingTimeInMillis() ?? Infinity) - MARGIN_MS;
      const waitOutMs = Math.max(0, Math.min(WAIT_OUT_MS[routeKey] ?? 0, left));
      // A trace of its own: a socket's routes belong to no order.
      return inSpan(
        `websocket ${routeKey}`,
        { kind: SpanKind.SERVER, attributes: { "websocket.route": routeKey } },
        () => route(event, routeKey, connectionId, waitOutMs),
      );
    },
  );

  async function route(
    event: WebsocketEvent,
    routeKey: string,
    connectionId: string,
    waitOutMs: number,
  ): Promise<APIGatewayProxyResultV2> {
    try {
      await waitingOutUnavailability(() => handle(event), waitOutMs);
      return { statusCode: 200 };
    } catch (error) {
      if (routeKey === "$connect" || routeKey === "$disconnect")
        return responseForError(error, `websocket ${routeKey}`);
      const { problem } = problemForError(error, `websocket ${routeKey}`);
      const { type: _type, ...details } = problem;
      await pushFrame(connectionId, { ...details, type: "PROBLEM" }).catch((pushError: unknown) =>
        logger.warn({ err: pushError, connection_id: connectionId }, "could not tell the connection its problem"),
      );
      return { statusCode: problem.status };
    }
  }
}

export interface AuthorizerEvent {
  methodArn: string;
  queryStringParameters?: Record<string, string | undefined> | null;
}

export interface AuthorizerPolicy {
  principalId: string;
  policyDocument: {
    Version: "2012-10-17";
    Statement: Array<{ Action: "execute-api:Invoke"; Effect: "Allow" | "Deny"; Resource: string }>;
  };
  context?: { userId: string };
}

const policy = (
  principalId: string,
  effect: "Allow" | "Deny",
  event: AuthorizerEvent,
  userId?: string,
): AuthorizerPolicy => ({
  principalId,
  policyDocument: {
    Version: "2012-10-17",
    Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: event.methodArn }],
  },
  ...(userId ? { context: { userId } } : {}),
});

async function decide(event: AuthorizerEvent): Promise<AuthorizerPolicy> {
  if (!config().auth.enabled) return policy("anonymous", "Allow", event);
  const query = event.queryStringParameters ?? {};
  if (!query.token) throw new Unauthorized("The WebSocket needs ?token=<access token>", "token");
  const caller = await verifyAccessToken(query.token);
  if (query.user_id !== undefined && query.user_id.toLowerCase() !== caller.userId) {
    logger.info({ user_id: caller.userId }, "socket refused: it asked for another user's frames");
    return policy(caller.userId, "Deny", event);
  }
  return policy(caller.userId, "Allow", event, caller.userId);
}

/**
 * The $connect route's Lambda REQUEST authorizer: the access token comes as the `token` query
 * parameter (a browser cannot set headers on a WebSocket). A missing or invalid token is
 * "Unauthorized" (401), a `user_id` naming someone else a Deny (403); an allowed connection
 * carries its user in the authorizer's context. An async handler refuses by throwing
 * Error("Unauthorized"), as API Gateway documents (nodejs24.x runs no callback handlers).
 */
export function websocketAuthorizer() {
  return invocation(async (event: AuthorizerEvent): Promise<AuthorizerPolicy> => {
    try {
      return await decide(event);
    } catch (error) {
      if (!(error instanceof Unauthorized)) logger.error({ err: error }, "authorizer failed; connection refused");
      throw new Error("Unauthorized");
    }
  });
}
