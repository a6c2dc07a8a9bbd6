import type middy from "@middy/core";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { z } from "zod";
import type { problem } from "../contract/http.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { DependencyUnavailable, ProblemError, Unauthorized } from "../errors.ts";
import { logger } from "../logger.ts";
import { Overloaded } from "./load-shedding.ts";
import { TimedOut } from "../timeout.ts";

export type Problem = z.infer<typeof problem>;

/** Seconds a client should wait before trying again while a database is away. */
const RETRY_AFTER_SECONDS = 2;

export function problemResponse(
  problem: Problem,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: problem.status,
    headers: { "content-type": "application/problem+json", ...headers },
    body: JSON.stringify(problem),
  };
}

function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** A domain error as problem details: its status, its title, and the field at fault. */
function problemOf(error: ProblemError): Problem {
  return {
    type: `https://gozon.example/problems/${slug(error.title)}`,
    title: error.title,
    status: error.status,
    detail: error.detail,
    ...(error.field ? { field: error.field } : {}),
  };
}

/**
 * Any error as problem details. Domain errors keep their status and field; a database that cannot
 * be reached is a 503 with Retry-After (it heals by itself); anything else is logged in full and
 * answered with a bare 500, never a stack trace or SQL text.
 */
export function problemForError(
  error: unknown,
  path: string | undefined,
): { problem: Problem; headers: Record<string, string> } {
  if (error instanceof Unauthorized)
    return { problem: problemOf(error), headers: { "www-authenticate": 'Bearer realm="gozon-shop"' } };
  if (error instanceof ProblemError) return { problem: problemOf(error), headers: {} };
  if (error instanceof Overloaded) {
    return {
      problem: {
        type: "https://gozon.example/problems/overloaded",
        title: "Service unavailable",
        status: 503,
        detail: "The shop is taking in more than it can handle right now. Please try again in 1 second.",
      },
      headers: { "retry-after": "1" },
    };
  }
  if (isDatabaseUnavailable(error) || error instanceof TimedOut || error instanceof DependencyUnavailable) {
    const what = error instanceof DependencyUnavailable ? error.dependency : "its database";
    logger.warn({ err: error, path }, `${what} unavailable; answered 503`);
    return {
      problem: {
        type: "https://gozon.example/problems/service-unavailable",
        title: "Service unavailable",
        status: 503,
        detail: `The shop cannot reach ${what} right now. Please try again in ${RETRY_AFTER_SECONDS} seconds.`,
      },
      headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
    };
  }
  logger.error({ err: error, path }, "unhandled error");
  return {
    problem: {
      type: "https://gozon.example/problems/internal-error",
      title: "Internal error",
      status: 500,
      detail: "Something went wrong on our side. Please try again.",
    },
    headers: {},
  };
}

/** Any error as an application/problem+json response (see problemForError). */
export function responseForError(error: unknown, path: string | undefined): APIGatewayProxyStructuredResultV2 {
  const { problem, headers } = problemForError(error, path);
  return problemResponse(problem, headers);
}

/** The one place HTTP errors become responses. */
export function problemErrors(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      request.response = responseForError(request.error, request.event.rawPath);
    },
  };
}
