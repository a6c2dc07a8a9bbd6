import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { AfterCommit } from "../after-commit.ts";
import { authenticate, type Caller, type CallerContext } from "../http/auth.ts";
import { shedLoad } from "../http/load-shedding.ts";
import { problemErrors } from "../http/problem.ts";
import { carryOut } from "./after-commit.ts";
import { invocation } from "./invocations.ts";

export interface JsonResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** What the committed change asked for; carried out before the answer leaves. */
  after?: AfterCommit[];
}

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Wraps a thin handler: it gets the event and the caller (from the verified access token; null when
 * AUTH=off) and returns status and body; errors become problem responses. Every endpoint needs a
 * token unless it is `anonymous` (health, the OpenAPI document).
 */
export function httpHandler(
  handle: (event: APIGatewayProxyEventV2, caller: Caller | null) => Promise<JsonResult>,
  options: { anonymous?: boolean } = {},
): HttpHandler {
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, CallerContext>(async (event: APIGatewayProxyEventV2, context: CallerContext) => {
    const result = await handle(event, context.caller ?? null);
    // Before returning: a Lambda container is frozen as soon as the handler has answered.
    if (result.after?.length) await carryOut(result.after);
    return {
      statusCode: result.status,
      headers: { "content-type": "application/json", ...result.headers },
      body: JSON.stringify(result.body),
    };
  }).use(problemErrors());
  // Health and the OpenAPI document always answer; every other endpoint is refused first, before
  // any work, while the process cannot keep up (load-shedding.ts).
  return invocation(options.anonymous ? handler : handler.use(shedLoad()).use(authenticate()));
}

/** Marks a response that replays the stored answer to a repeated Idempotency-Key. */
export function replayHeaders(replayed: boolean): Record<string, string> {
  return replayed ? { "idempotent-replayed": "true" } : {};
}
