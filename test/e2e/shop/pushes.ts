/** What the sockets are pushed: a refusal's reason, every tab's updates, snapshots, gone connections. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { testPool } from "../../support/database.ts";
import { eventually } from "../../support/shop-client.ts";
import type { ShopStack } from "./context.ts";

export function pushTests(s: ShopStack): void {
  it("cancels an order of a user without an account, saying why", async () => {
    const { shop } = s;
    const user = await shop.signUp();
    const socket = await shop.connect(user);
    try {
      const placed = await shop.placeOrder(user, 10);
      const frame = await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
      assert.equal(frame.status, "CANCELLED");
      assert.equal(frame.reason, "account_not_found");
    } finally {
      socket.close();
    }
  });

  it("refuses a WebSocket without a valid access token", async () => {
    const { shop } = s;
    await assert.rejects(shop.connect("not-a-uuid"), /Unexpected server response: 401/);
    const user = await shop.signUp();
    await assert.rejects(shop.connect({ ...user, token: "not-a-token" }), /Unexpected server response: 401/);
    await assert.rejects(shop.connect(user, { user_id: "not-a-uuid" }), /Unexpected server response: 403/);
  });

  it("pushes every update to every open tab of the user, and a tab opened later catches up from a snapshot", async () => {
    const { shop } = s;
    const user = await shop.signUp();
    await shop.createAccount(user);
    const [first, second] = [await shop.connect(user), await shop.connect(user)];
    try {
      await shop.deposit(user, 500);
      for (const tab of [first, second]) await tab.waitFor((f) => f.type === "BALANCE_UPDATED" && f.balance === 500);
      const placed = await shop.placeOrder(user, 200, "lamp");
      for (const tab of [first, second]) {
        const frame = await tab.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
        assert.deepEqual(
          [frame.status, frame.amount, frame.description, frame.balance],
          ["FINISHED", 200, "lamp", 300],
        );
      }
      const third = await shop.connect(user);
      try {
        third.ws.send(JSON.stringify({ action: "sync" }));
        const snapshot = await third.waitFor((f) => f.type === "SNAPSHOT");
        assert.equal(snapshot.balance, 300);
        assert.deepEqual(
          (snapshot.orders as Array<{ id: string; status: string }>).map((o) => [o.id, o.status]),
          [[placed.body.order_id, "FINISHED"]],
        );
      } finally {
        third.close();
      }
    } finally {
      first.close();
      second.close();
    }
  });

  it("knows a new account's balance of 0 in a snapshot, before any money moved", async () => {
    const { shop } = s;
    const user = await shop.signUp();
    await shop.createAccount(user);
    const socket = await shop.connect(user);
    try {
      // A sync faster than once a second is answered with a 429 PROBLEM frame: ask again after that.
      const balance = await eventually(
        async () => {
          const seen = socket.frames.length;
          socket.ws.send(JSON.stringify({ action: "sync" }));
          const answer = await socket.waitFor(
            (f) => (f.type === "SNAPSHOT" || f.type === "PROBLEM") && socket.frames.indexOf(f) >= seen,
          );
          return answer.type === "SNAPSHOT" && answer.balance !== null ? answer.balance : undefined;
        },
        15_000,
        "the opening balance announced",
      );
      assert.equal(balance, 0);
    } finally {
      socket.close();
    }
  });

  it("forgets a connection that is gone when a push finds it, and the order still settles", async () => {
    const { stack, shop } = s;
    const user = await shop.fundedShopper(100);
    const db = testPool(stack.ordersDatabaseUrl, 1);
    try {
      // A connection the WebSocket API no longer knows: its $disconnect never arrived.
      await db.query("INSERT INTO websocket_connections (connection_id, user_id) VALUES ('vanished-connection', $1)", [
        user.id,
      ]);
      const live = await shop.connect(user);
      try {
        const placed = await shop.placeOrder(user, 60);
        const frame = await live.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
        assert.equal(frame.status, "FINISHED");
        await eventually(
          async () => {
            const { rowCount } = await db.query(
              "SELECT 1 FROM websocket_connections WHERE connection_id = 'vanished-connection'",
            );
            return rowCount === 0 ? true : undefined;
          },
          10_000,
          "the gone connection removed",
        );
      } finally {
        live.close();
      }
    } finally {
      await db.end();
    }
  });
}
