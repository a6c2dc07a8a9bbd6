/** Concurrent orders on one balance, and every event delivered twice: each order charged once. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { follow, produce, type ReadRecord } from "../../support/kafka.ts";
import { eventually } from "../../support/shop-client.ts";
import { moneyHelpers, type MoneyStack } from "./context.ts";

export function chargedOnceTests(m: MoneyStack): void {
  const { answersByStatus, fundedUser, settledStatuses, consumedAll, ledgerOf } = moneyHelpers(m);
  it("100 concurrent orders of 100 on a balance of 5000: exactly 50 paid, 50 cancelled, balance 0", async () => {
    const { shop } = m;
    const user = await fundedUser(5000);
    const placed = await Promise.all(Array.from({ length: 100 }, () => shop.placeOrder(user, 100)));
    // Every one taken: a refused order (429, 503) is a failure here, never retried away.
    assert.deepEqual(answersByStatus(placed), { 201: 100 });
    const statuses = [...(await settledStatuses(placed.map((p) => p.body.order_id))).values()];
    assert.equal(statuses.filter((s) => s === "FINISHED").length, 50);
    assert.equal(statuses.filter((s) => s === "CANCELLED").length, 50);
    const ledger = await ledgerOf(user);
    assert.deepEqual(ledger, { charges: 50, per_order_max: 1, sum: 0, balance: 0 });
  });

  it("every orders.created event delivered twice: each order charged once", async () => {
    const { stack, shop, payments } = m;
    const user = await fundedUser(1000);
    const seen: ReadRecord[] = [];
    // Resolves once the reader's group is joined and positioned at the end of the topic.
    const consumer = await follow(
      stack.kafkaBrokers,
      "orders.created",
      "end",
      (message) => void (message.key?.toString() === user && seen.push(message)),
    );
    try {
      const placed = await Promise.all(Array.from({ length: 10 }, (_, i) => shop.placeOrder(user, 50 + i)));
      await eventually(async () => (seen.length >= 10 ? true : undefined), 15_000, "all 10 events seen");
      await produce(
        stack.kafkaBrokers,
        "orders.created",
        seen.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
      );
      await settledStatuses(placed.map((p) => p.body.order_id));
      // The payments consumer has now taken in every copy, the redelivered ones included.
      await consumedAll("gozon-payments-charges", "orders.created");
      const { rows } = await payments.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM inbox WHERE event_id = ANY($1)",
        [seen.map((m) => JSON.parse(m.value!.toString()).event_id)],
      );
      assert.equal(rows[0]!.n, 10);
      const ledger = await ledgerOf(user);
      const spent = placed.reduce((sum, _p, i) => sum + 50 + i, 0);
      assert.deepEqual(ledger, { charges: 10, per_order_max: 1, sum: 1000 - spent, balance: 1000 - spent });
    } finally {
      await consumer.stop();
    }
  });
}
