import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import type { RunningStack } from "../../local/stack.ts";
import { startTestStack } from "../support/stack.ts";
import { Traffic, checkMoney } from "../support/traffic.ts";
import { eventually, ShopClient, type Shopper } from "../support/shop-client.ts";

const UUID = "550e8400-e29b-41d4-a716-446655440000";
/** Percent-encodes every UTF-8 byte (a lone surrogate becomes U+FFFD, as any client would send it). */
const pct = (value: string) => [...Buffer.from(value)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");

/** Strings that break things: control characters (NUL first), lone surrogates, huge and odd numbers in text. */
const nasty = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      "\u0000",
      "\u0001",
      "\u001f",
      "\u007f",
      "\n",
      "\t",
      "\ud800",
      "\udfff",
      "'",
      '"',
      "\\",
      "%",
      "€",
      "𝄞",
    ),
    maxLength: 20,
  }),
  fc.constantFrom(
    "",
    " ",
    "null",
    "NaN",
    "-1",
    "1e309",
    "0x10",
    UUID.toUpperCase() + "\u0000",
    "00000000-0000-0000-0000-000000000000",
  ),
);
const anyJson = fc.oneof(
  nasty,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(nasty, nasty, { maxKeys: 3 }),
);
const userIdValue = fc.oneof(nasty, anyJson);
const amountValue = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(1e21, 2 ** 53, -0, "5", null, true),
  nasty,
);

/** A `limit` the API takes (1 to 100): not a bad request. */
const isPageSize = (v: string) => /^[0-9]{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 100;

/** A request that must be refused: one field (or the body, query or path itself) is wrong. */
const badRequest = fc.oneof(
  fc.record({
    method: fc.constant("POST"),
    path: fc.constant("/api/payments/create_account"),
    body: fc.oneof(fc.record({ user_id: userIdValue }), anyJson),
  }),
  fc.record({
    method: fc.constant("POST"),
    path: fc.constant("/api/payments/deposit"),
    body: fc.oneof(
      fc.record({ user_id: fc.constant(UUID), amount: amountValue }),
      fc.record({ user_id: userIdValue, amount: fc.constant(5) }),
      anyJson,
    ),
  }),
  fc.record({
    method: fc.constant("POST"),
    path: fc.constant("/api/orders"),
    body: fc.oneof(
      fc.record({
        user_id: fc.constant(UUID),
        amount: fc.constant(5),
        description: fc.oneof(
          fc
            .string({ unit: fc.constantFrom("\u0000", "\u0007", "\ud800", "a"), minLength: 1, maxLength: 10 })
            .filter((s) => [...s].some((c) => c !== "a")),
          fc.integer(),
          fc.constant("d".repeat(501)),
        ),
      }),
      fc.record({ user_id: fc.constant(UUID), amount: amountValue }),
      fc.record({ user_id: userIdValue, amount: fc.constant(5) }),
      // Well-formed, for someone else: 403 naming user_id.
      fc.record({ user_id: fc.constant(UUID), amount: fc.constant(5), description: fc.constant("for someone else") }),
      anyJson,
    ),
  }),
  fc.record({
    method: fc.constant("GET"),
    path: nasty.map((v) => `/api/payments/balance?user_id=${pct(v)}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constant("GET"),
    path: nasty.map((v) => `/api/orders?user_id=${pct(v)}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constant("GET"),
    path: nasty.filter((v) => v.trim() !== "" && v !== "." && v !== "..").map((v) => `/api/orders/${pct(v)}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constant("POST"),
    path: fc.constantFrom("/api/orders", "/api/payments/deposit", "/api/payments/create_account"),
    body: fc.string({ unit: "binary", maxLength: 30 }).map((raw) => ({ raw })),
  }),
  fc.record({
    method: fc.constant("GET"),
    path: fc
      .oneof(nasty, fc.integer().map(String))
      .filter((v) => !isPageSize(v))
      .map((v) => `/api/orders?limit=${pct(v)}`),
    body: fc.constant(undefined),
  }),
  fc.record({
    method: fc.constant("GET"),
    path: nasty.filter((v) => v !== "").map((v) => `/api/orders?cursor=${pct(v)}`),
    body: fc.constant(undefined),
  }),
);

/** Whose token goes along: mostly the signed-in shopper's (so validation is what answers), sometimes none or a broken one (401). */
const credentials = fc.oneof(
  { weight: 8, arbitrary: fc.constant<"valid" | "none">("valid") },
  { weight: 1, arbitrary: fc.constant<"valid" | "none">("none") },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._-]{0,60}$/) },
);

/**
 * Thousands of generated bad requests over every endpoint, with orders flowing beside them: each
 * is answered with a 4xx problem naming what is wrong, none with a 5xx, and the shop keeps serving.
 * Sign-in is on: the requests carry a real shopper's token (an account of their own, so an empty
 * create_account is a 409), or none, or a broken one (401 naming Authorization).
 */
describe("bad input never hurts the shop", () => {
  let stack: RunningStack;
  let shop: ShopClient;
  let caller: Shopper;
  before(async () => {
    stack = await startTestStack("fuzz");
    shop = new ShopClient(stack.apiUrl, stack.wsUrl, stack.identity);
    caller = await shop.fundedShopper(0);
  });
  after(async () => stack?.stop());

  it("1000 generated bad requests: every answer a 4xx problem naming the field, zero 5xx, normal orders served throughout", async () => {
    const traffic = new Traffic(stack.apiUrl, 5, shop);
    await traffic.openAccounts(3, 1_000);
    traffic.start();
    const statuses = new Map<number, number>();
    let runs = 0;
    try {
      await fc.assert(
        fc.asyncProperty(badRequest, credentials, async ({ method, path, body }, token) => {
          runs += 1;
          const raw =
            typeof body === "object" && body !== null && "raw" in body && Object.keys(body).length === 1
              ? String(body.raw)
              : undefined;
          const authorization =
            token === "valid" ? `Bearer ${caller.token}` : token === "none" ? undefined : `Bearer ${token}`;
          const response = await fetch(`${stack.apiUrl}${path}`, {
            method,
            headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
            ...(method === "POST" ? { body: raw ?? JSON.stringify(body) } : {}),
            signal: AbortSignal.timeout(10_000),
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const text = await response.text();
          assert.ok(
            response.status >= 400 && response.status < 500,
            `${method} ${path} ${JSON.stringify(body)} -> ${response.status} ${text}`,
          );
          assert.equal(response.headers.get("content-type"), "application/problem+json");
          const problem = JSON.parse(text) as { status: number; title: string; detail: string; field?: string };
          assert.equal(problem.status, response.status);
          assert.ok(problem.title && problem.detail, text);
          assert.ok(problem.field, `the problem names the field: ${text}`);
          assert.doesNotMatch(text, /at .*\.ts:\d+|stack|SELECT|INSERT/i, "no stack trace or SQL");
        }),
        { numRuns: 1_000 },
      );
    } finally {
      const report = await traffic.stop();
      console.log(
        `  ${runs} bad requests: ${JSON.stringify(Object.fromEntries(statuses))}; beside them ${report.accepted}/${report.sent} orders accepted`,
      );
      assert.equal(report.refused, 0, "every normal order was accepted meanwhile");
    }
    const money = await eventually(
      async () => {
        const check = await checkMoney(
          stack.ordersDatabaseUrl,
          stack.paymentsDatabaseUrl,
          traffic.placed,
          traffic.users,
        );
        return check.lost === 0 ? check : undefined;
      },
      30_000,
      "the normal orders settled",
    );
    assert.deepEqual([money.chargedTwice, money.unbalanced], [0, []]);
    assert.ok(runs >= 1_000);
  });
});
