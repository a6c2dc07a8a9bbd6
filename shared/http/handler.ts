import middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { problemErrors } from "./problem.ts";

export interface JsonResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** Wraps a thin handler: it returns status and body, errors become problem responses. */
export function httpHandler(handle: (event: APIGatewayProxyEventV2) => Promise<JsonResult>): HttpHandler {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(async (event: APIGatewayProxyEventV2) => {
    const result = await handle(event);
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
