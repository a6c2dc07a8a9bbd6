import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { MSKEvent } from "aws-lambda";
import pg from "pg";
import type { OrderCreated, PaymentProcessed } from "../../shared/contract/events.ts";
import { FUNCTIONS } from "../../shared/contract/manifest.ts";
import { run } from "../../shared/db/pipelined.ts";
import { withTransaction } from "../../shared/db/transaction.ts";
import { withEffects } from "../support/effects.ts";
import { isDatabaseUnavailable } from "../../shared/db/unavailable.ts";
import { IdempotencyKeyReused } from "../../shared/errors.ts";
import { kafkaHandler } from "../../shared/handlers/kafka.ts";
import { placeOrder, settleOrder } from "../../shared/orders/orders.ts";
import { deposit, openAccount } from "../../shared/payments/accounts.ts";
import { chargeOrder } from "../../shared/payments/charges.ts";
import { startTestDatabases, type TestDatabases, testPool } from "../support/database.ts";

const envelope = () => ({ event_id: randomUUID(), event_version: 1 as const, occurred_at: new Date().toISOString() });

function orderCreated(userId: string, amount: number): OrderCreated {
  const orderId = randomUUID();
  return {
    ...envelope(),
    event_type: "OrderCreated",
    correlation_id: orderId,
    order_id: orderId,
    user_id: userId,
    amount,
    description: "core",
  };
}

/** The event Lambda hands a consumer, with one partition of raw record values. */
function kafkaEvent(topic: string, values: Buffer[]): MSKEvent {
  return {
    eventSource: "aws:kafka",
    eventSourceArn: "arn:aws:kafka:us-east-1:000000000000:cluster/test/x",
    bootstrapServers: "127.0.0.1:9092",
    records: {
      [`${topic}-0`]: values.map((value, offset) => ({
        topic,
        partition: 0,
        offset,
        timestamp: Date.now(),
        timestampType: "CREATE_TIME" as const,
        key: "",
        value: value.toString("base64"),
        headers: [],
      })),
    },
  } as MSKEvent;
}

/**
 * The money rules of both services on PostgreSQL alone: charges, settling, idempotency keys and
 * the consumer's batch handling, each in seconds and without a broker.
 */
describe("money rules, on PostgreSQL alone", () => {
  let databases: TestDatabases;
  let orders: pg.Pool;
  let payments: pg.Pool;
  before(async () => {
    databases = await startTestDatabases("money-core", 17533);
    orders = testPool(databases.ordersUrl, 3);
    payments = testPool(databases.paymentsUrl, 3);
  });
  after(async () => {
    await orders?.end();
    await payments?.end();
    await databases?.stop();
  });

  async function fundedUser(balance: number): Promise<string> {
    const user = randomUUID();
    await withEffects(async () => {
      await openAccount(user);
      if (balance > 0) await deposit(user, balance);
    });
    return user;
  }

  const balanceOf = async (user: string) =>
    (
      await payments.query<{ balance: number; charges: number }>(
        "SELECT balance::int, (SELECT count(*)::int FROM ledger WHERE user_id = $1 AND kind = 'CHARGE') AS charges FROM accounts WHERE user_id = $1",
        [user],
      )
    ).rows[0]!;

  it("20 charges of 10 racing on a balance of 100: exactly 10 paid, the balance never below 0", async () => {
    const user = await fundedUser(100);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        withEffects(() => withTransaction("payments", (tx) => run(tx, chargeOrder(orderCreated(user, 10))))),
      ),
    );
    const statuses = outcomes.map((o) => o.result);
    assert.equal(statuses.filter((s) => s === "FINISHED").length, 10);
    assert.equal(statuses.filter((s) => s === "CANCELLED").length, 10);
    assert.deepEqual(await balanceOf(user), { balance: 0, charges: 10 });
  });

  it("the same event twice, and a second event for the same order: charged once", async () => {
    const user = await fundedUser(100);
    const event = orderCreated(user, 30);
    const first = await withEffects(() => withTransaction("payments", (tx) => run(tx, chargeOrder(event))));
    const again = await withEffects(() => withTransaction("payments", (tx) => run(tx, chargeOrder(event))));
    const sameOrder = await withEffects(() =>
      withTransaction("payments", (tx) => run(tx, chargeOrder({ ...event, event_id: randomUUID() }))),
    );
    assert.deepEqual([first.result, again.result, sameOrder.result], ["FINISHED", "duplicate", "duplicate"]);
    assert.deepEqual(again.after, [], "a duplicate asks for nothing");
    assert.deepEqual(await balanceOf(user), { balance: 70, charges: 1 });
  });

  it("an order moves from NEW once: a duplicate result or a later contrary one changes nothing, and only the first is pushed", async () => {
    const user = randomUUID();
    const { result: placed, after: placedAfter } = await withEffects(() =>
      placeOrder({ userId: user, amount: 5, description: "settle" }),
    );
    assert.deepEqual(placedAfter, [
      { kind: "relay", database: "orders", running: false },
      { kind: "count", metric: "OrdersAccepted" },
    ]);
    const order = placed.result;
    const result = (status: "FINISHED" | "CANCELLED"): PaymentProcessed => ({
      ...envelope(),
      event_type: "PaymentProcessed",
      correlation_id: order.id,
      order_id: order.id,
      user_id: user,
      amount: 5,
      status,
      reason: status === "CANCELLED" ? "insufficient_funds" : null,
    });
    const paid = result("FINISHED");
    const first = await withEffects(() => withTransaction("orders", (tx) => run(tx, settleOrder(paid))));
    const duplicate = await withEffects(() => withTransaction("orders", (tx) => run(tx, settleOrder(paid))));
    const contrary = await withEffects(() =>
      withTransaction("orders", (tx) => run(tx, settleOrder(result("CANCELLED")))),
    );
    assert.equal(first.after.length, 2);
    assert.equal(first.after[0]!.kind === "push" && first.after[0]!.frames[0]!.type, "ORDER_UPDATED");
    // Counted once, after the commit; the duplicate and the contrary result count nothing.
    assert.deepEqual(first.after[1], { kind: "count", metric: "OrdersFinished" });
    assert.deepEqual([duplicate.after, contrary.after], [[], []]);
    const { rows } = await orders.query("SELECT status FROM orders WHERE id = $1", [order.id]);
    assert.deepEqual(rows, [{ status: "FINISHED" }]);
  });

  it("an Idempotency-Key replays its first answer, refuses another body, and counts as new once expired", async () => {
    const user = await fundedUser(0);
    const key = randomUUID();
    const first = await withEffects(() => deposit(user, 10, key));
    const replay = await withEffects(() => deposit(user, 10, key));
    assert.deepEqual([first.result.replayed, replay.result.replayed], [false, true]);
    assert.deepEqual(replay.result.result, first.result.result);
    assert.deepEqual(replay.after, [], "a replay asks for nothing");
    await assert.rejects(
      withEffects(() => deposit(user, 11, key)),
      IdempotencyKeyReused,
    );
    await payments.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1", [key]);
    const later = await withEffects(() => deposit(user, 11, key));
    assert.equal(later.result.replayed, false);
    assert.deepEqual(await balanceOf(user), { balance: 21, charges: 0 });
  });

  it("a consumer parks unreadable records intact, handles the rest, and reports the first record that fails, leaving those behind it alone", async () => {
    const user = await fundedUser(100);
    const good = orderCreated(user, 10);
    const failing = orderCreated(user, 10);
    const behind = orderCreated(user, 10);
    const poison = Buffer.from([0x7b, 0x00, 0x7d]);
    const handler = kafkaHandler(FUNCTIONS.onOrderCreated, (event) => {
      if (event.order_id === failing.order_id) throw new Error("this record always fails");
      return chargeOrder(event);
    });
    const response = await handler(
      kafkaEvent("orders.created", [
        poison,
        Buffer.from(JSON.stringify(good)),
        Buffer.from(JSON.stringify(failing)),
        Buffer.from(JSON.stringify(behind)),
      ]),
      { functionName: "onOrderCreated", getRemainingTimeInMillis: () => 30_000 },
    );
    assert.deepEqual(response, {
      batchItemFailures: [{ itemIdentifier: { partition: "orders.created-0", offset: 2 } }],
    });
    const { rows } = await payments.query<{ order_id: string }>("SELECT order_id FROM payments WHERE user_id = $1", [
      user,
    ]);
    assert.deepEqual(
      rows.map((r) => r.order_id),
      [good.order_id],
      "the record before the failure is committed; the one behind it waits",
    );
    const parked = await payments.query<{ record_value: Buffer; headers: Array<{ name: string; value: string }> }>(
      "SELECT record_value, record_headers AS headers FROM outbox WHERE topic = 'orders.created.dlt'",
    );
    assert.equal(parked.rows.length, 1);
    assert.deepEqual(parked.rows[0]!.record_value, poison, "the dead letter holds the exact bytes");
    const header = (name: string) =>
      Buffer.from(parked.rows[0]!.headers.find((h) => h.name === name)!.value, "base64").toString();
    assert.equal(header("dlt-reason"), "unreadable");
    assert.equal(header("dlt-source-offset"), "0");
  });

  it("a consumer's batch goes out pipelined, yet each charge is decided in record order, and a copy in the same batch is charged once", async () => {
    const user = await fundedUser(35);
    const events = [10, 10, 20, 10, 5, 10].map((amount) => orderCreated(user, amount));
    const batch = [...events.slice(0, 3), events[0]!, ...events.slice(3)];
    const handler = kafkaHandler(FUNCTIONS.onOrderCreated, chargeOrder);
    const response = await handler(
      kafkaEvent(
        "orders.created",
        batch.map((e) => Buffer.from(JSON.stringify(e))),
      ),
      { functionName: "onOrderCreated", getRemainingTimeInMillis: () => 30_000 },
    );
    assert.deepEqual(response, { batchItemFailures: [] });
    const { rows } = await payments.query<{ order_id: string; status: string; reason: string | null }>(
      "SELECT order_id, status, reason FROM payments WHERE user_id = $1",
      [user],
    );
    const outcome = new Map(rows.map((r) => [r.order_id, `${r.status}${r.reason ? `/${r.reason}` : ""}`]));
    assert.deepEqual(
      events.map((e) => outcome.get(e.order_id)),
      ["FINISHED", "FINISHED", "CANCELLED/insufficient_funds", "FINISHED", "FINISHED", "CANCELLED/insufficient_funds"],
    );
    assert.deepEqual(await balanceOf(user), { balance: 0, charges: 4 });
    const published = await payments.query<{ order_id: string }>(
      "SELECT convert_from(record_value, 'UTF8')::jsonb ->> 'order_id' AS order_id FROM outbox WHERE topic = 'payments.processed' AND record_key = convert_to($1, 'UTF8') ORDER BY id",
      [user],
    );
    assert.deepEqual(
      published.rows.map((r) => r.order_id),
      events.map((e) => e.order_id),
      "one result per order, in record order",
    );
  });

  it("a database that cannot be reached is told apart from a bad request", async () => {
    const unreachable = new pg.Pool({
      connectionString: "postgres://postgres:x@127.0.0.1:1/none",
      connectionTimeoutMillis: 1_000,
    });
    const error = await unreachable.query("SELECT 1").catch((e: unknown) => e);
    await unreachable.end();
    assert.equal(isDatabaseUnavailable(error), true);
    const bad = await orders.query("SELECT * FROM no_such_table").catch((e: unknown) => e);
    assert.equal(isDatabaseUnavailable(bad), false);
    const client = await orders.connect();
    try {
      // A statement its timeout cancelled: an overloaded or locked database, not a bad request.
      const cancelled = await client.query("SET statement_timeout = 10; SELECT pg_sleep(1)").catch((e: unknown) => e);
      assert.equal((cancelled as { code?: string }).code, "57014");
      assert.equal(isDatabaseUnavailable(cancelled), true);
    } finally {
      client.release(true);
    }
  });
});
