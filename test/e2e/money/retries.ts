/** What comes again: a deposit retried with its Idempotency-Key, an unreadable record, a failing function's batch. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { fetchOffsets, follow, produce, type ReadRecord } from "../../support/kafka.ts";
import { eventually } from "../../support/shop-client.ts";
import { moneyHelpers, type MoneyStack } from "./context.ts";

export function retryTests(m: MoneyStack): void {
  const { fundedUser, settledStatuses, ledgerOf } = moneyHelpers(m);
  it("the same Idempotency-Key sent 10 times at once makes one deposit", async () => {
    const { shop } = m;
    const user = await fundedUser(0);
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, () => shop.deposit(user, 250, key)));
    assert.ok(
      answers.every((a) => a.status === 200),
      JSON.stringify(answers.map((a) => a.status)),
    );
    assert.ok(answers.every((a) => a.body.balance === 250));
    assert.equal(answers.filter((a) => a.headers.get("idempotent-replayed") === "true").length, 9);
    assert.deepEqual(await ledgerOf(user), { charges: 0, per_order_max: 0, sum: 250, balance: 250 });
    const misuse = await shop.deposit(user, 999, key);
    assert.equal(misuse.status, 422);
    assert.equal(misuse.body.field, "Idempotency-Key");
  });

  it("an unreadable record goes to the dead-letter topic and does not block its partition", async () => {
    const { stack, shop } = m;
    const user = await fundedUser(100);
    await produce(stack.kafkaBrokers, "orders.created", [{ key: user, value: "{this is not an event" }]);
    const placed = await shop.placeOrder(user, 40);
    const statuses = await settledStatuses([placed.body.order_id]);
    assert.equal(statuses.get(placed.body.order_id), "FINISHED");

    const parked: ReadRecord[] = [];
    const consumer = await follow(
      stack.kafkaBrokers,
      "orders.created.dlt",
      "start",
      (message) => void parked.push(message),
    );
    try {
      // The dead letter is the record itself, untouched, with where and why it failed in headers.
      const found = await eventually(
        async () => parked.find((p) => p.value?.toString() === "{this is not an event"),
        15_000,
        "dead letter",
      );
      assert.equal(found.key?.toString(), user);
      assert.equal(found.headers!["dlt-source-topic"]!.toString(), "orders.created");
      assert.equal(found.headers!["dlt-error"]!.toString(), "value is not JSON");
    } finally {
      await consumer.stop();
    }
  });

  it("a function that fails gets its batch again, with the offsets left uncommitted until it succeeds", async () => {
    const { stack, shop, payments, output } = m;
    const user = await fundedUser(100);
    const committed = async () =>
      JSON.stringify(
        await fetchOffsets(stack.kafkaBrokers, { groupId: "gozon-payments-charges", topics: ["orders.created"] }),
      );
    const before = await committed();
    // Payments loses its inbox for a moment: every charge fails until it is back.
    await payments.query("ALTER TABLE inbox RENAME TO inbox_away");
    let placed;
    try {
      const seen = output.length;
      placed = await shop.placeOrder(user, 10);
      // The event source tried the charge, saw it fail, and tried it again.
      await eventually(
        async () =>
          output
            .slice(seen)
            .some((line) => /onOrderCreated: orders\.created-\d+ offsets .* failed \(attempt 2\)/.test(line))
            ? true
            : undefined,
        20_000,
        "the charge failed twice",
      );
      assert.equal((await shop.order(placed.body.order_id)).body.status, "NEW");
      assert.equal(await committed(), before, "nothing committed while the function fails");
    } finally {
      await payments.query("ALTER TABLE inbox_away RENAME TO inbox");
    }
    const statuses = await settledStatuses([placed.body.order_id]);
    assert.equal(statuses.get(placed.body.order_id), "FINISHED");
    assert.notEqual(await committed(), before, "committed once it succeeded");
    assert.deepEqual(await ledgerOf(user), { charges: 1, per_order_max: 1, sum: 90, balance: 90 });
  });
}
