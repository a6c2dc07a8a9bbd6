/** Answers as the OpenAPI document says, and bad input as a problem naming the field. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { assertDocumented, documentedAnswers, SIGN_IN_STATUSES } from "../../support/contract.ts";
import { newUserId } from "../../support/shop-client.ts";
import { moneyHelpers, type MoneyStack } from "./context.ts";

export function contractTests(m: MoneyStack): void {
  const { fundedUser } = moneyHelpers(m);
  it("answers exactly as the OpenAPI document says, for every documented answer", async () => {
    const { shop } = m;
    const user = await fundedUser(0);
    const key = randomUUID();
    const placed = await shop.placeOrder(user, 1);
    const requests: Array<[string, string, unknown?, Record<string, string>?]> = [
      ["POST", "/api/payments/create_account", { user_id: newUserId() }],
      ["POST", "/api/payments/create_account", { user_id: user }],
      ["POST", "/api/payments/create_account", { user_id: "nope" }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 10 }, { "idempotency-key": key }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 11 }, { "idempotency-key": key }],
      ["POST", "/api/payments/deposit", { user_id: newUserId(), amount: 10 }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: -1 }],
      ["GET", `/api/payments/balance?user_id=${user}`],
      ["GET", `/api/payments/balance?user_id=${newUserId()}`],
      ["GET", "/api/payments/balance"],
      ["POST", "/api/orders", { user_id: user, amount: 5, description: "contract" }, { "idempotency-key": key }],
      ["POST", "/api/orders", { user_id: user, amount: 6, description: "contract" }, { "idempotency-key": key }],
      ["POST", "/api/orders", { user_id: user }],
      ["GET", `/api/orders?user_id=${user}`],
      ["GET", "/api/orders?user_id=1"],
      ["GET", `/api/orders/${placed.body.order_id}`],
      ["GET", `/api/orders/${randomUUID()}`],
      ["GET", "/api/orders/1"],
      ["GET", "/api/health"],
      ["POST", "/api/payments/create_account", { user_id: newUserId(), padding: "x".repeat(20_000) }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 1, padding: "x".repeat(20_000) }],
      ["POST", "/api/orders", { user_id: user, amount: 1, description: "x".repeat(20_000) }],
    ];
    const seen = new Set<string>();
    for (const [method, path, body, headers] of requests)
      seen.add(assertDocumented(method, path, await shop.request(method, path, body, headers)));
    // 401 and 403 need sign-in on: auth.test.ts produces and checks those.
    const withoutSignIn = documentedAnswers().filter(
      (a) => !SIGN_IN_STATUSES.some((status) => a.endsWith(` ${status}`)),
    );
    assert.deepEqual(
      withoutSignIn.filter((a) => !seen.has(a)),
      [],
      "every documented answer was produced",
    );
  });

  it("answers bad input with a problem naming the field, never a 500", async () => {
    const { shop } = m;
    const user = await fundedUser(0);
    const cases: Array<[string, string, unknown, number, string]> = [
      ["POST", "/api/payments/create_account", { user_id: user }, 409, "user_id"],
      ["POST", "/api/payments/create_account", { user_id: "00000000-0000-0000-0000-000000000000" }, 400, "user_id"],
      ["POST", "/api/payments/deposit", { user_id: newUserId(), amount: 5 }, 404, "user_id"],
      ["POST", "/api/payments/deposit", { user_id: user, amount: "5" }, 400, "amount"],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 5.5 }, 400, "amount"],
      ["POST", "/api/orders", "{broken", 400, "body"],
      ["POST", "/api/orders", { user_id: user, amount: 1, description: "d".repeat(501) }, 400, "description"],
      ["GET", "/api/orders/not-a-uuid", undefined, 400, "id"],
      ["GET", `/api/orders/${randomUUID()}`, undefined, 404, "id"],
      ["GET", "/api/orders", undefined, 400, "user_id"],
      ["GET", "/api/payments/balance?user_id=xyz", undefined, 400, "user_id"],
    ];
    for (const [method, path, body, status, field] of cases) {
      const answer = await shop.request<{ status: number; field: string; title: string; detail: string }>(
        method,
        path,
        body,
      );
      assert.equal(answer.status, status, `${method} ${path} ${JSON.stringify(answer.body)}`);
      assert.equal(answer.headers.get("content-type"), "application/problem+json");
      assert.equal(answer.body.status, status);
      assert.equal(answer.body.field, field, `${method} ${path}`);
      assert.ok(answer.body.title && answer.body.detail);
    }
  });
}
