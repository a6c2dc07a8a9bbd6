import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { createOrderRequest, depositRequest, userQuery } from "../../shared/contract/http.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { actingUser } from "../../shared/http/auth.ts";
import { jsonBody, parse, idempotencyKeyOf } from "../../shared/http/request.ts";
import { Forbidden, InvalidInput, NotFound } from "../../shared/errors.ts";

const USER = "550e8400-e29b-41d4-a716-446655440000";

function rejects(run: () => unknown, field: string, detail: RegExp) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidInput, `expected InvalidInput, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(error.detail, detail);
    return true;
  });
}

describe("request validation names the failing field", () => {
  it("accepts a well-formed order and lower-cases the user id", () => {
    const order = parse(createOrderRequest, { user_id: USER.toUpperCase(), amount: 300 });
    assert.deepEqual(order, { user_id: USER, amount: 300, description: "" });
  });

  it("rejects a malformed or nil user id", () => {
    rejects(() => parse(userQuery, { user_id: "not-a-uuid" }), "user_id", /must be a UUID/);
    rejects(() => parse(userQuery, { user_id: "00000000-0000-0000-0000-000000000000" }), "user_id", /nil UUID/);
  });

  it("accepts only positive whole JSON numbers up to the maximum as amounts", () => {
    rejects(() => parse(depositRequest, { user_id: USER, amount: "100" }), "amount", /JSON number/);
    rejects(() => parse(depositRequest, { user_id: USER, amount: 10.5 }), "amount", /whole number/);
    rejects(() => parse(depositRequest, { user_id: USER, amount: 0 }), "amount", /positive/);
    rejects(() => parse(depositRequest, { user_id: USER, amount: -5 }), "amount", /positive/);
    rejects(() => parse(depositRequest, { user_id: USER, amount: 1e12 }), "amount", /at most/);
    rejects(() => parse(depositRequest, { user_id: USER }), "amount", /is required/);
  });

  it("rejects an overlong description", () => {
    rejects(
      () => parse(createOrderRequest, { user_id: USER, amount: 1, description: "x".repeat(501) }),
      "description",
      /at most 500/,
    );
  });

  it("rejects a body that is not JSON, and an overlong Idempotency-Key", () => {
    rejects(() => jsonBody({ body: "{nope" } as APIGatewayProxyEventV2), "body", /not valid JSON/);
    rejects(() => jsonBody({} as APIGatewayProxyEventV2), "body", /must be a JSON object/);
    rejects(
      () => idempotencyKeyOf({ headers: { "idempotency-key": "k".repeat(256) } } as unknown as APIGatewayProxyEventV2),
      "Idempotency-Key",
      /at most 255/,
    );
  });
});

describe("the user a request acts for", () => {
  const OTHER = "0b7e6a52-3c1e-4e55-9d3e-8f1b2a7c9d10";

  it("is the token's user; naming the same user is fine, naming another is a 403 on user_id", () => {
    assert.equal(actingUser({ userId: USER }, undefined), USER);
    assert.equal(actingUser({ userId: USER }, USER), USER);
    assert.throws(
      () => actingUser({ userId: USER }, OTHER),
      (error: unknown) => error instanceof Forbidden && error.field === "user_id",
    );
  });

  it("with AUTH=off is the user_id the request names, which is then required", () => {
    assert.equal(actingUser(null, OTHER), OTHER);
    rejects(() => actingUser(null, undefined), "user_id", /is required/);
  });
});

describe("httpHandler asks for an access token before anything else", () => {
  const call = (headers: Record<string, string>) =>
    httpHandler(async () => ({ status: 200, body: {} }))(
      { rawPath: "/x", headers } as unknown as APIGatewayProxyEventV2,
      {} as Context,
    );

  it("answers a request without a token, or with a header that is not a bearer token, 401 with a problem", async () => {
    for (const headers of [{}, { authorization: "Basic dXNlcjpwYXNz" }, { authorization: "Bearer" }] as Array<
      Record<string, string>
    >) {
      const response = await call(headers);
      assert.equal(response.statusCode, 401, JSON.stringify(headers));
      assert.equal(response.headers?.["content-type"], "application/problem+json");
      assert.match(String(response.headers?.["www-authenticate"]), /^Bearer/);
      assert.equal(JSON.parse(String(response.body)).field, "Authorization");
    }
  });
});

describe("httpHandler maps errors to problem responses", () => {
  const invoke = (fail: () => never) =>
    // An open route (as the OpenAPI document says), so no token is asked for first.
    httpHandler(async () => fail())(
      { rawPath: "/x", routeKey: "GET /api/health" } as APIGatewayProxyEventV2,
      {} as Context,
    );

  it("keeps a domain error's status and field", async () => {
    const response = await invoke(() => {
      throw new NotFound("No account for user x", "user_id");
    });
    assert.equal(response.statusCode, 404);
    assert.equal(response.headers?.["content-type"], "application/problem+json");
    const body = JSON.parse(String(response.body));
    assert.deepEqual(
      { status: body.status, title: body.title, field: body.field },
      { status: 404, title: "Not found", field: "user_id" },
    );
  });

  it("answers anything else with a bare 500 that leaks nothing", async () => {
    const response = await invoke(() => {
      throw new Error('duplicate key value violates unique constraint "accounts_pkey"');
    });
    assert.equal(response.statusCode, 500);
    assert.doesNotMatch(String(response.body), /accounts_pkey|duplicate key|at .*\.ts/);
  });
});
