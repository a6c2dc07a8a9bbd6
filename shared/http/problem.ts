import type middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { DomainError } from "../errors.ts";
import { logger } from "../logger.ts";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  field?: string;
}

export function problemResponse(problem: Problem): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: problem.status,
    headers: { "content-type": "application/problem+json" },
    body: JSON.stringify(problem),
  };
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/** A domain error as problem details: its status, its title, and the field at fault. */
export function problemOf(error: DomainError): Problem {
  return {
    type: `https://gozon.example/problems/${slug(error.title)}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    ...(error.field ? { field: error.field } : {}),
  };
}

/**
 * The one place errors become responses: domain errors keep their status and field; anything
 * else is logged in full and answered with a bare 500, never a stack trace or SQL text.
 */
export function problemErrors(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof DomainError) {
        request.response = problemResponse(problemOf(error));
        return;
      }
      logger.error({ err: error, path: request.event.rawPath }, "unhandled error");
      request.response = problemResponse({
        type: "https://gozon.example/problems/internal-error",
        title: "Internal error",
        status: 500,
        detail: "Something went wrong on our side. Please try again.",
      });
    },
  };
}
