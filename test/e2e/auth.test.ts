import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import WebSocket from "ws";
import { createUserPool } from "../../local/cognito/identity-provider.ts";
import type { RunningStack, StackIdentity } from "../../local/stack.ts";
import { SNAPSHOT_ORDERS } from "../../shared/contract/frames.ts";
import { MAX_ORDERS_PAGE } from "../../shared/contract/http.ts";
import { MAX_SOCKETS_PER_USER } from "../../shared/notifications/connections.ts";
import { assertDocumented, documentedAnswers, SIGN_IN_STATUSES } from "../support/contract.ts";
import { eventually, ShopClient, type Shopper, type Socket } from "../support/shop-client.ts";
import { startTestStack, TEST_PORTS } from "../support/stack.ts";
import { expiredCopy, faithfulCopy, mintedWithPublishedKey, signedByAnotherKey } from "../support/tokens.ts";
import { testPool } from "../support/database.ts";

type Problem = { type: string; title: string; status: number; detail: string; field?: string };

/** The handshake's answer when a WebSocket is refused ("Unexpected server response: 401"). */
async function refusedWith(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => (ws.close(), reject(new Error(`${url} was let in`))));
    ws.once("unexpected-response", (_request, response) => (ws.terminate(), resolve(response.statusCode ?? 0)));
    ws.once("error", () => undefined);
  });
}

/**
 * Sign-in end to end, with the real identity provider (cognito-local) and real tokens: who may call,
 * whose money and orders a caller may touch, whose frames a socket hears, and the abuse limits.
 */
describe("accounts belong to people (cognito-local, real tokens, the whole stack)", () => {
  let stack: RunningStack;
  let identity: StackIdentity;
  let shop: ShopClient;
  let alice: Shopper;
  let bob: Shopper;
  const seen = new Set<string>();

  /** A real answer, checked against the OpenAPI document; its problem body returned. */
  async function answer(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    as: Shopper | undefined,
    status: number,
    field?: string,
  ): Promise<Problem> {
    const response = await shop.request<Problem>(method, path, body, headers, as);
    assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
    seen.add(assertDocumented(method, path, response));
    if (status >= 400) {
      assert.equal(response.body.status, status);
      assert.ok(response.body.title && response.body.detail);
      if (field) assert.equal(response.body.field, field, `${method} ${path}`);
    }
    if (status === 401) assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
    return response.body;
  }

  before(async () => {
    stack = await startTestStack("auth");
    identity = stack.identity!;
    assert.ok(identity?.local, "the stack runs cognito-local");
    shop = new ShopClient(stack.apiUrl, stack.wsUrl, identity);
    [alice, bob] = [await shop.fundedShopper(1_000), await shop.fundedShopper(500)];
  });
  after(async () => {
    await stack?.stop();
  });

  describe("who may call", () => {
    const protectedRequests = (): Array<[string, string, unknown?]> => [
      ["POST", "/api/payments/create_account", {}],
      ["POST", "/api/payments/deposit", { amount: 1 }],
      ["GET", "/api/payments/balance"],
      ["POST", "/api/orders", { amount: 1 }],
      ["GET", "/api/orders"],
      ["GET", `/api/orders/${randomUUID()}`],
    ];

    it("answers every endpoint but health and the document 401 without a token, naming Authorization", async () => {
      for (const [method, path, body] of protectedRequests())
        await answer(method, path, body, {}, undefined, 401, "Authorization");
      assert.equal((await shop.request("GET", "/api/health")).status, 200);
      assert.equal((await shop.request("GET", "/api/openapi.json")).status, 200);
    });

    it("refuses an expired token, one signed by another key, a tampered one, and not a bearer token, with 401", async () => {
      // A copy signed with the identity provider's own key is accepted: the copies differ only where they say.
      assert.equal((await shop.balance({ ...alice, token: await faithfulCopy(alice.token, identity) })).status, 200);
      const expired = await answer(
        "GET",
        "/api/payments/balance",
        undefined,
        {},
        { ...alice, token: await expiredCopy(alice.token, identity) },
        401,
        "Authorization",
      );
      assert.match(expired.detail, /expired/);
      const forged = await answer(
        "POST",
        "/api/payments/deposit",
        { amount: 5 },
        {},
        { ...alice, token: await signedByAnotherKey(alice.token) },
        401,
        "Authorization",
      );
      assert.match(forged.detail, /signature/i);
      const [header, payload, signature] = alice.token.split(".");
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: bob.id })).toString("base64url")}.${signature}`;
      await answer("GET", "/api/orders", undefined, {}, { ...alice, token: tampered }, 401, "Authorization");
      await answer(
        "GET",
        "/api/orders",
        undefined,
        { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
        undefined,
        401,
        "Authorization",
      );
      assert.equal((await shop.balance(alice)).body.balance, 1_000, "nothing moved");
    });

    it("refuses a token minted for an existing user with the key published in cognito-local's package, with 401", async () => {
      // The stack signs with a key of its own: anyone can download the package's key.
      const minted = await mintedWithPublishedKey(alice.token);
      const refused = await answer(
        "GET",
        "/api/payments/balance",
        undefined,
        {},
        { ...alice, token: minted },
        401,
        "Authorization",
      );
      assert.match(refused.detail, /signature/i);
      await answer("POST", "/api/orders", { amount: 1 }, {}, { ...alice, token: minted }, 401, "Authorization");
      assert.equal((await shop.balance(alice)).status, 200, "alice's own token still works");
    });

    it("refuses a real token of another user pool, of another app client of this pool, and an id token, with 401", async () => {
      // A second pool in the same cognito-local: same signing key, another issuer.
      const otherPool = new ShopClient(stack.apiUrl, stack.wsUrl, {
        ...identity,
        ...(await createUserPool(identity.endpoint, "another-shop")),
      });
      const stranger = await otherPool.signUp();
      const wrongPool = await answer("GET", "/api/payments/balance", undefined, {}, stranger, 401, "Authorization");
      assert.match(wrongPool.detail, /issuer/i);

      const cognito = new CognitoIdentityProviderClient({
        endpoint: identity.endpoint,
        region: identity.region,
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
      });
      try {
        const { UserPoolClient: otherClient } = await cognito.send(
          new CreateUserPoolClientCommand({
            UserPoolId: identity.userPoolId,
            ClientName: "another-app",
            ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH"],
          }),
        );
        const signIn = (clientId: string) =>
          cognito.send(
            new InitiateAuthCommand({
              ClientId: clientId,
              AuthFlow: "USER_PASSWORD_AUTH",
              AuthParameters: { USERNAME: alice.email, PASSWORD: alice.password },
            }),
          );
        const viaOtherApp = (await signIn(otherClient!.ClientId!)).AuthenticationResult!.AccessToken!;
        const wrongClient = await answer(
          "GET",
          "/api/payments/balance",
          undefined,
          {},
          { ...alice, token: viaOtherApp },
          401,
          "Authorization",
        );
        assert.match(wrongClient.detail, /client/i);
        const idToken = (await signIn(identity.clientId)).AuthenticationResult!.IdToken!;
        const wrongUse = await answer(
          "GET",
          "/api/payments/balance",
          undefined,
          {},
          { ...alice, token: idToken },
          401,
          "Authorization",
        );
        assert.match(wrongUse.detail, /token use/i);
      } finally {
        cognito.destroy();
      }
    });
  });

  describe("nobody touches another's money", () => {
    it("takes the user from the token: no user_id needed, the user's own id accepted, another's a 403", async () => {
      await answer("GET", "/api/payments/balance", undefined, {}, alice, 200);
      await answer("GET", `/api/payments/balance?user_id=${alice.id.toUpperCase()}`, undefined, {}, alice, 200);
      await answer("GET", `/api/payments/balance?user_id=${bob.id}`, undefined, {}, alice, 403, "user_id");
      await answer("GET", `/api/orders?user_id=${bob.id}`, undefined, {}, alice, 403, "user_id");
      await answer("POST", "/api/payments/deposit", { user_id: bob.id, amount: 1 }, {}, alice, 403, "user_id");
      await answer("POST", "/api/orders", { user_id: bob.id, amount: 1 }, {}, alice, 403, "user_id");
      await answer("POST", "/api/payments/create_account", { user_id: bob.id }, {}, alice, 403, "user_id");
      assert.equal((await shop.balance(bob)).body.balance, 500, "Bob's money did not move");
      assert.deepEqual((await shop.orders(bob)).body, [], "nothing was ordered for Bob");
    });

    it("answers another user's order 404, as if it did not exist, and lists only the caller's orders", async () => {
      const placed = await shop.placeOrder(bob, 10, "Bob's tea");
      assert.equal(placed.status, 201);
      await answer("GET", `/api/orders/${placed.body.order_id}`, undefined, {}, alice, 404, "id");
      await answer("GET", `/api/orders/${placed.body.order_id}`, undefined, {}, bob, 200);
      const mine = await shop.orders(alice);
      assert.ok(!mine.body.some((o) => o.id === placed.body.order_id));
    });

    it("keeps idempotency keys per user: the same key from two users makes two deposits, each replayed only to its own user", async () => {
      const key = `shared-${randomUUID()}`;
      const [a, b] = [await shop.fundedShopper(0), await shop.fundedShopper(0)];
      const first = await shop.deposit(a, 100, key);
      assert.equal(first.status, 200);
      const other = await shop.deposit(b, 100, key);
      assert.equal(other.status, 200, JSON.stringify(other.body));
      assert.equal(other.headers.get("idempotent-replayed"), null, "B's request is B's own, not A's replayed");
      assert.equal(other.body.user_id, b.id);
      const replayed = await shop.deposit(a, 100, key);
      assert.equal(replayed.headers.get("idempotent-replayed"), "true");
      assert.equal(replayed.body.user_id, a.id);
      assert.deepEqual([(await shop.balance(a)).body.balance, (await shop.balance(b)).body.balance], [100, 100]);
      const [orderA, orderB] = [
        await shop.placeOrder(a, 1, "same key", key),
        await shop.placeOrder(b, 1, "same key", key),
      ];
      assert.notEqual(orderA.body.order_id, orderB.body.order_id);
    });
  });

  describe("sockets hear only their own user", () => {
    it("refuses a socket without a token (401), with a bad token (401), or asking for another user's frames (403)", async () => {
      assert.equal(await refusedWith(stack.wsUrl), 401);
      assert.equal(await refusedWith(`${stack.wsUrl}?token=${await expiredCopy(alice.token, identity)}`), 401);
      assert.equal(await refusedWith(`${stack.wsUrl}?token=${await signedByAnotherKey(alice.token)}`), 401);
      assert.equal(
        await refusedWith(`${stack.wsUrl}?token=${await mintedWithPublishedKey(alice.token)}`),
        401,
        "minted with cognito-local's published key",
      );
      assert.equal(await refusedWith(`${stack.wsUrl}?user_id=${alice.id}`), 401);
      assert.equal(await refusedWith(`${stack.wsUrl}?token=${alice.token}&user_id=${bob.id}`), 403);
    });

    it("never gives A's sockets B's frames, nor B's sockets A's", async () => {
      const [a, b] = [await shop.fundedShopper(300), await shop.fundedShopper(300)];
      const sockets: Socket[] = [];
      try {
        const [a1, a2, b1] = [await shop.connect(a), await shop.connect(a), await shop.connect(b)];
        sockets.push(a1, a2, b1);
        const bOrder = await shop.placeOrder(b, 120, "Bob's lamp");
        await shop.deposit(b, 5);
        await b1.waitFor(
          (f) => f.type === "ORDER_UPDATED" && f.order_id === bOrder.body.order_id && f.status === "FINISHED",
        );
        // The deposit and the charge race: 185 comes on the deposit's frame or on the order's, whichever was last.
        await b1.waitFor((f) => (f.type === "BALANCE_UPDATED" || f.type === "ORDER_UPDATED") && f.balance === 185);
        const aOrder = await shop.placeOrder(a, 100, "Alice's cup");
        for (const socket of [a1, a2])
          await socket.waitFor(
            (f) =>
              f.type === "ORDER_UPDATED" &&
              f.order_id === aOrder.body.order_id &&
              f.status === "FINISHED" &&
              f.balance === 200,
          );
        a1.ws.send(JSON.stringify({ action: "sync" }));
        const snapshot = await a1.waitFor((f) => f.type === "SNAPSHOT");
        assert.equal(snapshot.user_id, a.id);
        assert.deepEqual(
          (snapshot.orders as Array<{ id: string }>).map((o) => o.id),
          [aOrder.body.order_id],
        );
        const foreign = (frame: Record<string, unknown>, owner: Shopper, theirs: string) =>
          (frame.user_id !== undefined && frame.user_id !== owner.id) || frame.order_id === theirs;
        for (const socket of [a1, a2])
          assert.deepEqual(
            socket.frames.filter((f) => foreign(f, a, bOrder.body.order_id)),
            [],
            "A heard nothing of B",
          );
        assert.deepEqual(
          b1.frames.filter((f) => foreign(f, b, aOrder.body.order_id)),
          [],
          "B heard nothing of A",
        );
      } finally {
        sockets.forEach((s) => s.close());
      }
    });
  });

  describe("abuse limits", () => {
    it(`lets a user hold ${MAX_SOCKETS_PER_USER} sockets at once and refuses one more with 429 until one closes`, async () => {
      const user = await shop.signUp();
      const sockets = await Promise.all(Array.from({ length: MAX_SOCKETS_PER_USER }, () => shop.connect(user)));
      try {
        assert.equal(await refusedWith(`${stack.wsUrl}?token=${user.token}`), 429);
        const other = await shop.connect(alice); // another user is not affected
        other.close();
        sockets.shift()!.close();
        const again = await eventually(
          () => shop.connect(user).catch(() => undefined),
          10_000,
          "a socket again once one closed",
        );
        sockets.push(again);
      } finally {
        sockets.forEach((s) => s.close());
      }
    });

    it("answers a sync faster than once a second, an oversized frame and an unknown one with PROBLEM frames, and stays open", async () => {
      const socket = await shop.connect(alice);
      try {
        for (let i = 0; i < 3; i += 1) socket.ws.send(JSON.stringify({ action: "sync" }));
        await socket.waitFor((f) => f.type === "SNAPSHOT");
        const tooFast = await socket.waitFor((f) => f.type === "PROBLEM" && f.status === 429);
        assert.equal(tooFast.field, "action");
        socket.ws.send(JSON.stringify({ action: "sync", padding: "x".repeat(2_000) }));
        const tooLarge = await socket.waitFor((f) => f.type === "PROBLEM" && f.status === 413);
        assert.match(String(tooLarge.detail), /1024 bytes/);
        socket.ws.send("hello");
        await socket.waitFor((f) => f.type === "PROBLEM" && f.status === 400 && f.field === "action");
        socket.ws.send(JSON.stringify({ action: "refund" }));
        await eventually(
          async () =>
            socket.frames.filter((f) => f.type === "PROBLEM" && f.status === 400).length >= 2 ? true : undefined,
          10_000,
          "the unknown action answered",
        );
        assert.equal(socket.ws.readyState, WebSocket.OPEN);
      } finally {
        socket.close();
      }
    });

    it(`pages GET /api/orders with a cursor, at most ${MAX_ORDERS_PAGE} a page`, async () => {
      const user = await shop.fundedShopper(0);
      const placed: string[] = [];
      for (let i = 0; i < 7; i += 1) placed.unshift((await shop.placeOrder(user, 1, `order ${i}`)).body.order_id);
      const listed: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await shop.orders(user, { limit: 3, cursor });
        seen.add(assertDocumented("GET", "/api/orders", page));
        listed.push(...page.body.map((o) => o.id));
        cursor = page.headers.get("next-cursor") ?? undefined;
        pages += 1;
      } while (cursor);
      assert.deepEqual(listed, placed, "every order once, newest first");
      assert.equal(pages, 3);
      await answer("GET", `/api/orders?limit=${MAX_ORDERS_PAGE + 1}`, undefined, {}, user, 400, "limit");
      await answer("GET", "/api/orders?limit=0", undefined, {}, user, 400, "limit");
      await answer("GET", "/api/orders?cursor=bm90LWEtY3Vyc29y", undefined, {}, user, 400, "cursor");
    });

    it("keeps a SNAPSHOT under API Gateway's 128 KB however many orders, with a cursor to the rest", async () => {
      const user = await shop.fundedShopper(0);
      const orders = testPool(stack.ordersDatabaseUrl, 1);
      try {
        // The largest orders there can be: 500 characters of 3-byte UTF-8 each (written straight to the table, for speed).
        await orders.query(
          `INSERT INTO orders (id, user_id, amount, description, status, reason, created_at)
           SELECT gen_random_uuid(), $1, 1000000000, repeat('€', 500), 'CANCELLED', 'insufficient_funds', now() - make_interval(secs => n)
             FROM generate_series(1, 300) AS n`,
          [user.id],
        );
      } finally {
        await orders.end();
      }
      const socket = await shop.connect(user);
      try {
        socket.ws.send(JSON.stringify({ action: "sync" }));
        const snapshot = await socket.waitFor((f) => f.type === "SNAPSHOT");
        const bytes = Buffer.byteLength(JSON.stringify(snapshot));
        assert.ok(bytes < 128 * 1024, `${bytes} bytes`);
        assert.equal((snapshot.orders as unknown[]).length, SNAPSHOT_ORDERS);
        const next = await shop.orders(user, { cursor: String(snapshot.next_cursor) });
        assert.equal(next.status, 200);
        assert.equal(next.body.length, 50);
      } finally {
        socket.close();
      }
    });

    it("answers a body over 16 KiB 413, signed in", async () => {
      await answer("POST", "/api/orders", { amount: 1, description: "x".repeat(20_000) }, {}, alice, 413, "body");
    });
  });

  it("tells an anonymous caller of health only up or down per component", async () => {
    const response = await fetch(`${stack.apiUrl}/api/health`);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { status: "ok", checks: { kafka: "up", orders_db: "up", payments_db: "up" } });
    assert.doesNotMatch(text, /127\.0\.0\.1|localhost|:\d{2,5}\b|error/i);
  });

  it("lets only the page's origin call the API from a browser (CORS preflight)", async () => {
    const preflight = (origin: string) =>
      fetch(`${stack.apiUrl}/api/orders`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
    const page = await preflight(`http://127.0.0.1:${TEST_PORTS.frontend}`);
    assert.equal(page.headers.get("access-control-allow-origin"), `http://127.0.0.1:${TEST_PORTS.frontend}`);
    assert.match(page.headers.get("access-control-allow-headers") ?? "", /Authorization/i);
    const elsewhere = await preflight("https://evil.example");
    assert.equal(elsewhere.headers.get("access-control-allow-origin"), null);
  });

  it("documents the bearer scheme, and produced every sign-in answer it documents", async () => {
    const document = (
      await shop.request<{
        components: { securitySchemes: Record<string, { type: string; scheme: string }> };
        security: unknown[];
      }>("GET", "/api/openapi.json")
    ).body;
    assert.deepEqual(
      Object.values(document.components.securitySchemes).map((s) => [s.type, s.scheme]),
      [["http", "bearer"]],
    );
    assert.equal(document.security.length, 1);
    assert.deepEqual(
      documentedAnswers(SIGN_IN_STATUSES).filter((a) => !seen.has(a)),
      [],
      "every documented 401 and 403 was produced",
    );
  });
});
