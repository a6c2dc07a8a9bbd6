/** Nobody touches another's money or orders, and sockets hear only their own user. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import type { Shopper, Socket } from "../../support/shop-client.ts";
import { expiredCopy, mintedWithPublishedKey, signedByAnotherKey } from "../../support/tokens.ts";
import { authHelpers, type AuthStack, refusedWith } from "./context.ts";

export function ownershipTests(auth: AuthStack): void {
  const { answer } = authHelpers(auth);
  describe("nobody touches another's money", () => {
    it("takes the user from the token: no user_id needed, the user's own id accepted, another's a 403", async () => {
      const { shop, alice, bob } = auth;
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
      const { shop, alice, bob } = auth;
      const placed = await shop.placeOrder(bob, 10, "Bob's tea");
      assert.equal(placed.status, 201);
      await answer("GET", `/api/orders/${placed.body.order_id}`, undefined, {}, alice, 404, "id");
      await answer("GET", `/api/orders/${placed.body.order_id}`, undefined, {}, bob, 200);
      const mine = await shop.orders(alice);
      assert.ok(!mine.body.some((o) => o.id === placed.body.order_id));
    });

    it("keeps idempotency keys per user: the same key from two users makes two deposits, each replayed only to its own user", async () => {
      const { shop } = auth;
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
      const { stack, identity, alice, bob } = auth;
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
      const { shop } = auth;
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
}
