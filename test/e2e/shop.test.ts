import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningStack } from "../../local/stack.ts";
import { newUserId, ShopClient, type Socket } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";

describe("the shop end to end (real Kafka, two real Postgres, serverless-offline; HTTP and WebSocket only)", () => {
  let stack: RunningStack;
  let shop: ShopClient;

  before(async () => {
    stack = await startTestStack("shop");
    shop = new ShopClient(stack.apiUrl, stack.wsUrl);
  });
  after(async () => {
    await stack?.stop();
  });

  it("reports Kafka and both databases healthy", async () => {
    const health = await shop.request<{ status: string; checks: Record<string, { ok: boolean }> }>("GET", "/api/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "ok");
    assert.deepEqual(Object.keys(health.body.checks).sort(), ["kafka", "orders_db", "payments_db"]);
  });

  it("charges an affordable order, cancels an unaffordable one, and pushes both outcomes live", async () => {
    const user = newUserId();
    let socket: Socket | undefined;
    try {
      assert.equal((await shop.createAccount(user)).status, 201);
      socket = await shop.connect(user);
      const deposited = await shop.deposit(user, 1000);
      assert.equal(deposited.status, 200);
      assert.equal(deposited.body.balance, 1000);

      const paid = await shop.placeOrder(user, 300, "keyboard");
      assert.equal(paid.status, 201);
      assert.equal(paid.body.status, "NEW");
      const paidFrame = await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === paid.body.order_id);
      assert.equal(paidFrame.status, "FINISHED");
      assert.equal((await shop.balance(user)).body.balance, 700);

      const refused = await shop.placeOrder(user, 5000, "car");
      assert.equal(refused.status, 201);
      const refusedFrame = await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === refused.body.order_id);
      assert.equal(refusedFrame.status, "CANCELLED");
      assert.equal(refusedFrame.reason, "insufficient_funds");
      assert.equal((await shop.balance(user)).body.balance, 700);

      const one = await shop.order(paid.body.order_id);
      assert.equal(one.status, 200);
      assert.equal(one.body.status, "FINISHED");
      const all = await shop.orders(user);
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.body.map((o) => [o.id, o.status]),
        [
          [refused.body.order_id, "CANCELLED"],
          [paid.body.order_id, "FINISHED"],
        ],
      );
      const balanceFrames = socket.frames.filter((f) => f.type === "BALANCE_UPDATED").map((f) => f.balance);
      assert.ok(balanceFrames.includes(700), `a BALANCE_UPDATED frame with 700 arrives, got ${JSON.stringify(balanceFrames)}`);
    } finally {
      socket?.close();
    }
  });

  it("cancels an order of a user without an account, saying why", async () => {
    const user = newUserId();
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
});
