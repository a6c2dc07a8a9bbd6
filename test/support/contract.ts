import assert from "node:assert/strict";
import { routes } from "../../shared/http/openapi.ts";
import { problem } from "../../shared/contract/http.ts";
import type { ApiResponse } from "./shop-client.ts";

/** Which documented route a concrete request path belongs to ("/api/orders/123" -> "/api/orders/{id}"). */
function routeFor(method: string, path: string) {
  const bare = path.split("?")[0]!;
  return routes.find(
    (r) => r.method === method.toLowerCase() && new RegExp(`^${r.path.replace(/\{[^}]+\}/g, "[^/]+")}$`).test(bare),
  );
}

/**
 * Checks one real answer against the OpenAPI document: the status is documented for the route,
 * the body satisfies the documented schema, and problems come as application/problem+json.
 * Returns "<method> <route> <status>" so a test can tell which documented answers it has seen.
 */
export function assertDocumented(method: string, path: string, answer: ApiResponse<unknown>): string {
  const route = routeFor(method, path);
  assert.ok(route, `${method} ${path} is documented`);
  const documented = route.responses[answer.status];
  assert.ok(
    documented,
    `${method} ${route.path} documents status ${answer.status}; body ${JSON.stringify(answer.body)}`,
  );
  if (documented.schema) {
    const checked = documented.schema.safeParse(answer.body);
    assert.ok(
      checked.success,
      `${method} ${route.path} ${answer.status} body matches the document: ${checked.error?.message}`,
    );
    // zod drops keys it does not know: any difference is a field the document does not mention.
    assert.deepEqual(checked.data, answer.body, `${method} ${route.path} ${answer.status} has no undocumented fields`);
  }
  const type = documented.schema === problem ? "application/problem+json" : "application/json";
  // serverless-offline's HTTP server appends "; charset=utf-8" to JSON; the media type is what counts.
  assert.equal(
    answer.headers.get("content-type")?.split(";")[0],
    type,
    `${method} ${route.path} ${answer.status} content type`,
  );
  return `${route.method} ${route.path} ${answer.status}`;
}

/**
 * Every documented answer with one of `statuses` (all statuses when not given), except those a
 * healthy shop cannot give on purpose (503).
 */
export function documentedAnswers(statuses?: number[]): string[] {
  return routes.flatMap((r) =>
    Object.keys(r.responses)
      .filter((s) => s !== "503" && (!statuses || statuses.includes(Number(s))))
      .map((s) => `${r.method} ${r.path} ${s}`),
  );
}

/** The answers only a shop with sign-in on gives: no token (401), another user's id (403). */
export const SIGN_IN_STATUSES = [401, 403];
