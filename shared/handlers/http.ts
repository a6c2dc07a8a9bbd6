import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { authenticate, type Caller, type CallerContext } from "../http/auth.ts";
import { shedLoad } from "../http/load-shedding.ts";
import { isAnonymous } from "../http/openapi.ts";
import { problemErrors } from "../http/problem.ts";
import { contextOf, inSpan, SpanKind, SpanStatusCode } from "../tracing/spans.ts";
import { invocation } from "./invocations.ts";

export interface JsonResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Wraps a thin handler: it gets the event and the caller (from the verified access token; null when
 * AUTH=off) and returns status and body; errors become problem responses. Every endpoint needs a
 * token unless the OpenAPI document says it is open to anyone (health, the document itself: see
 * isAnonymous); an unknown route needs one.
 */
export function httpHandler(
  handle: (event: APIGatewayProxyEventV2, caller: Caller | null) => Promise<JsonResult>,
): HttpHandler {
  const answer = () =>
    middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, CallerContext>(
      async (event: APIGatewayProxyEventV2, context: CallerContext) => {
        const result = await handle(event, context.caller ?? null);
        return {
          statusCode: result.status,
          headers: { "content-type": "application/json", ...result.headers },
          body: JSON.stringify(result.body),
        };
      },
    ).use(problemErrors());
  // Open routes always answer; every other endpoint is refused first, before any work, while the
  // process cannot keep up (load-shedding.ts), and without a valid token.
  const open = answer();
  const guarded = answer().use(shedLoad()).use(authenticate());
  return invocation(traced((event, context) => (isAnonymous(event.routeKey) ? open : guarded)(event, context)));
}

/**
 * The request as a server span: a trace of its own, or the caller's when the request carries a
 * W3C `traceparent` (a malformed one is ignored). Whatever the handler commits and emits is part of it.
 */
function traced(handler: HttpHandler): HttpHandler {
  return (event, context) => {
    // A malformed event (a hand-made test event) is still answered: its span is named what can be known.
    const method = event.requestContext?.http?.method ?? "HTTP";
    const route = event.routeKey && event.routeKey !== "$default" ? event.routeKey : `${method} ${event.rawPath ?? ""}`;
    const attributes = { "http.request.method": method, "http.route": route.split(" ")[1] ?? route };
    return inSpan(route, { kind: SpanKind.SERVER, attributes, parent: contextOf(event.headers) }, async (span) => {
      const response = await handler(event, context);
      span.setAttribute("http.response.status_code", response.statusCode ?? 200);
      if ((response.statusCode ?? 200) >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    });
  };
}

/** Marks a response that replays the stored answer to a repeated Idempotency-Key. */
export function replayHeaders(replayed: boolean): Record<string, string> {
  return replayed ? { "idempotent-replayed": "true" } : {};
}
