/** An order's trace kept through the dead-letter topic and its redrive. */
import assert from "node:assert/strict";
import { it } from "node:test";
import pg from "pg";
import { deadLetters } from "../../support/dead-letters.ts";
import { readUntil } from "../../support/kafka.ts";
import { eventually } from "../../support/shop-client.ts";
import { tracesHelpers, type TracesStack } from "./context.ts";

export function deadLetterTraceTests(t: TracesStack): void {
  const { fundedUser, traceWith, one, ok } = tracesHelpers(t);
  it("keeps an order's trace through the dead-letter topic and its redrive", async () => {
    const { stack, shop } = t;
    const payments = new pg.Client({ connectionString: stack.paymentsDatabaseUrl });
    await payments.connect();
    const AMOUNT = 4343;
    try {
      // A fault injected in the real database: charging an order of this amount always fails.
      await payments.query(`
        CREATE FUNCTION fail_traced_charge() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure for amount %', NEW.amount; END $$;
        CREATE TRIGGER fail_traced_charge BEFORE INSERT ON payments FOR EACH ROW WHEN (NEW.amount = ${AMOUNT}) EXECUTE FUNCTION fail_traced_charge();`);
      const { user, socket } = await fundedUser(AMOUNT);
      const placed = await shop.placeOrder(user, AMOUNT, "dead-lettered, then redriven");
      assert.equal(placed.status, 201);
      const orderId = placed.body.order_id;

      const letter = (
        await readUntil(
          stack.kafkaBrokers,
          "orders.created.dlt",
          (m) => m.value?.toString().includes(orderId) ?? false,
          1,
          120_000,
        )
      )[0]!;
      assert.equal(letter.headers?.["dlt-reason"]?.toString(), "retries-exhausted");
      const before = await traceWith(orderId, ["post /api/orders", "send orders.created", "process orders.created"]);
      const traceId = one(before, "post /api/orders").traceId;
      const sendCreated = one(before, "send orders.created");
      assert.equal(
        letter.headers?.traceparent?.toString().split("-")[1],
        traceId,
        "the dead letter keeps the order's traceparent",
      );
      const attempts = before.filter((s) => s.name === "process orders.created");
      assert.ok(
        attempts.every((s) => !ok(s) && s.parentId === sendCreated.id),
        "every failed attempt is a failed span under the publish",
      );

      await payments.query("DROP TRIGGER fail_traced_charge ON payments; DROP FUNCTION fail_traced_charge();");
      const { code, stdout, stderr } = await deadLetters(
        stack,
        "redrive",
        "orders.created.dlt",
        `${letter.partition}:${letter.offset}`,
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, /1 record\(s\) sent back/);
      await socket.waitFor(
        (f) => f.type === "ORDER_UPDATED" && f.order_id === orderId && f.status === "FINISHED",
        60_000,
      );

      const spans = await eventually(
        async () => {
          const all = await traceWith(orderId, ["process payments.processed", "push order_updated"]);
          return all.some((s) => s.name === "process orders.created" && ok(s)) ? all : undefined;
        },
        30_000,
        "the redriven charge in the order's trace",
      );
      assert.ok(
        spans.every((s) => s.traceId === traceId),
        "one trace, before and after the redrive",
      );
      const charged = one(spans, "process orders.created", ok);
      assert.equal(charged.parentId, sendCreated.id, "the redriven record continues from the original publish");
      const settle = one(spans, "process payments.processed");
      assert.equal(one(spans, "send payments.processed").parentId, charged.id);
      assert.equal(one(spans, "push order_updated").parentId, settle.id);
      socket.close();
    } finally {
      await payments
        .query("DROP TRIGGER IF EXISTS fail_traced_charge ON payments; DROP FUNCTION IF EXISTS fail_traced_charge();")
        .catch(() => undefined);
      await payments.end();
    }
  });
}
