import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { AfterCommit } from "../after-commit.ts";
import { problemErrors } from "../http/problem.ts";
import { carryOut } from "./after-commit.ts";

export interface JsonResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** What the committed change asked for; carried out before the answer leaves. */
  after?: AfterCommit[];
}

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Wraps a thin handler: it returns status and body, errors become problem responses. */
export function httpHandler(handle: (event: APIGatewayProxyEventV2) => Promise<JsonResult>): HttpHandler {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(async (event: APIGatewayProxyEventV2) => {
    const result = await handle(event);
    // Before returning: a Lambda container is frozen as soon as the handler has answered.
    if (result.after?.length) await carryOut(result.after);
    return {
      statusCode: result.status,
      headers: { "content-type": "application/json", ...result.headers },
      body: JSON.stringify(result.body),
    };
  }).use(problemErrors());
}

/** Marks a response that replays the stored answer to a repeated Idempotency-Key. */
export function replayHeaders(replayed: boolean): Record<string, string> {
  return replayed ? { "idempotent-replayed": "true" } : {};
}
