/** The abuse limits: sockets per user, frames, pages, snapshots and bodies. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { SNAPSHOT_ORDERS } from "../../../shared/contract/frames.ts";
import { MAX_ORDERS_PAGE } from "../../../shared/contract/http.ts";
import { MAX_SOCKETS_PER_USER } from "../../../shared/notifications/connections.ts";
import { assertDocumented } from "../../support/contract.ts";
import { testPool } from "../../support/database.ts";
import { eventually } from "../../support/shop-client.ts";
import { authHelpers, type AuthStack, refusedWith } from "./context.ts";

export function abuseLimitTests(auth: AuthStack): void {
  const { answer } = authHelpers(auth);
  describe("abuse limits", () => {
    it(`lets a user hold ${MAX_SOCKETS_PER_USER} sockets at once and refuses one more with 429 until one closes`, async () => {
      const { stack, shop, alice } = auth;
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
      const { shop, alice } = auth;
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
      const { shop, seen } = auth;
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
      const { stack, shop } = auth;
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
      const { alice } = auth;
      await answer("POST", "/api/orders", { amount: 1, description: "x".repeat(20_000) }, {}, alice, 413, "body");
    });
  });
}
