/** What an operator reads at /metrics. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { localFunctionName } from "../../../local/offline/functions.ts";
import { testPool } from "../../support/database.ts";
import { fetchTopicOffsets, produce } from "../../support/kafka.ts";
import { eventually } from "../../support/shop-client.ts";
import { TEST_PORTS } from "../../support/stack.ts";
import type { ShopStack } from "./context.ts";

/** The value of each series /metrics serves now, by its name and labels as Prometheus writes them. */
async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const series = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    const match = /^(\S+) (\S+)$/.exec(line);
    if (match && !line.startsWith("#")) series.set(match[1]!, Number(match[2]));
  }
  return series;
}

export function metricsTests(s: ShopStack): void {
  it("shows an operator, at /metrics, the orders taken, paid and cancelled, the pushes sent, and the sampled levels", async () => {
    const { stack, shop } = s;
    const before = await scrape(stack.metricsUrl);
    const orders = testPool(stack.ordersDatabaseUrl, 1);
    const fn = (name: string) => `function_name="${localFunctionName(name)}"`;
    const counted = (series: Map<string, number>, name: string) => series.get(name) ?? 0;
    const accepted = `gozon_orders_accepted_total{${fn("createOrder")}}`;
    const finished = `gozon_orders_finished_total{${fn("onPaymentProcessed")}}`;
    const cancelled = `gozon_orders_cancelled_total{${fn("onPaymentProcessed")}}`;
    const pushed = `gozon_pushes_sent_total{${fn("onPaymentProcessed")}}`;
    const user = await shop.signUp();
    const socket = await shop.connect(user);
    try {
      assert.equal((await shop.createAccount(user)).status, 201);
      assert.equal((await shop.deposit(user, 100)).status, 200);
      const paid = await shop.placeOrder(user, 60, "lamp");
      const refused = await shop.placeOrder(user, 600, "sofa");
      for (const order of [paid, refused])
        await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === order.body.order_id);
      // Each order of this stack counted once, after its commit: the counters equal the orders
      // table (every test's orders, this one's two among them), and this test's frames were sent.
      await eventually(
        async () => {
          const now = await scrape(stack.metricsUrl);
          const { rows } = await orders.query<{ status: string; n: number }>(
            "SELECT status, count(*)::int AS n FROM orders GROUP BY status",
          );
          const rowsOf = (status?: string) => rows.reduce((n, r) => n + (!status || r.status === status ? r.n : 0), 0);
          return counted(now, accepted) === rowsOf() &&
            counted(now, finished) === rowsOf("FINISHED") &&
            counted(now, cancelled) === rowsOf("CANCELLED") &&
            rowsOf("NEW") === 0 &&
            counted(now, pushed) - counted(before, pushed) >= 2
            ? true
            : undefined;
        },
        10_000,
        "orders accepted, finished and cancelled at /metrics equal to the orders table, and the frames pushed",
      );
    } finally {
      socket.close();
      await orders.end();
    }

    // A record no consumer can read is parked on its dead-letter topic, which the sample counts.
    await produce(stack.kafkaBrokers, "orders.created", [{ key: user.id, value: "not json" }]);
    const onTheTopic = async () =>
      (await fetchTopicOffsets(stack.kafkaBrokers, "orders.created.dlt")).reduce(
        (n, p) => n + Number(p.high) - Number(p.low),
        0,
      );

    // The schedule samples each minute; invoked here as the schedule would, once the shop is idle
    // every level is nought: nothing waits in an outbox, every group has committed every record.
    const lambda = `http://127.0.0.1:${TEST_PORTS.lambda}`;
    const levels = await eventually(
      async () => {
        const invoked = await fetch(
          `${lambda}/2015-03-31/functions/${localFunctionName("sampleMetrics")}/invocations`,
          {
            method: "POST",
            body: "{}",
            signal: AbortSignal.timeout(10_000),
          },
        );
        assert.equal(invoked.status, 200);
        const now = await scrape(stack.metricsUrl);
        const sampled = [...now].filter(([name]) =>
          /^gozon_(outbox_backlog|outbox_oldest_age_seconds|consumer_lag)\{/.test(name),
        );
        const parked = counted(now, `gozon_dead_letters{${fn("sampleMetrics")},topic="orders.created.dlt"}`);
        return sampled.length === 7 &&
          sampled.every(([, value]) => value === 0) &&
          parked >= 1 &&
          parked === (await onTheTopic())
          ? now
          : undefined;
      },
      20_000,
      "outbox backlogs, oldest ages and consumer lags sampled at 0, and the parked record counted",
    );
    for (const group of ["gozon-payments-charges", "gozon-orders-payment-results", "gozon-notifications-balances"])
      assert.equal(levels.get(`gozon_consumer_lag{${fn("sampleMetrics")},consumer_group="${group}"}`), 0);
    for (const topic of ["orders.created.dlt", "payments.processed.dlt", "payments.balance-updated.dlt"])
      assert.ok(
        levels.has(`gozon_dead_letters{${fn("sampleMetrics")},topic="${topic}"}`),
        `dead letters on ${topic} sampled`,
      );
  });
}
