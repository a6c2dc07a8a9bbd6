/** The shop healthy, and an order charged or cancelled with its outcome pushed live. */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { Socket } from "../../support/shop-client.ts";
import type { ShopStack } from "./context.ts";

export function orderTests(s: ShopStack): void {
  it("reports Kafka and both databases healthy", async () => {
    const { shop } = s;
    const health = await shop.request<{ status: string; checks: Record<string, string> }>("GET", "/api/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "ok");
    assert.deepEqual(health.body.checks, { kafka: "up", orders_db: "up", payments_db: "up" });
  });

  it("charges an affordable order, cancels an unaffordable one, and pushes both outcomes live", async () => {
    const { shop } = s;
    const user = await shop.signUp();
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
      // One message per order: the balance the payment left rides on the order's frame.
      assert.equal(paidFrame.balance, 700);
      assert.equal((await shop.balance(user)).body.balance, 700);

      const refused = await shop.placeOrder(user, 5000, "car");
      assert.equal(refused.status, 201);
      const refusedFrame = await socket.waitFor(
        (f) => f.type === "ORDER_UPDATED" && f.order_id === refused.body.order_id,
      );
      assert.equal(refusedFrame.status, "CANCELLED");
      assert.equal(refusedFrame.reason, "insufficient_funds");
      assert.equal((await shop.balance(user)).body.balance, 700);

      const one = await shop.order(paid.body.order_id, user);
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
      // The charge's balance came only on the order's frame. A deposit's comes on a frame of its own,
      // after the charge's announcement on the same partition: once it is here, that one was handled too.
      assert.equal((await shop.deposit(user, 10)).status, 200);
      await socket.waitFor((f) => f.type === "BALANCE_UPDATED" && f.balance === 710);
      const balanceFrames = socket.frames.filter((f) => f.type === "BALANCE_UPDATED").map((f) => f.balance);
      assert.ok(!balanceFrames.includes(700), `no frame of its own for the charge's 700: ${balanceFrames.join(", ")}`);
    } finally {
      socket?.close();
    }
  });
}
