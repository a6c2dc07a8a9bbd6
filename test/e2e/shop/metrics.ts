/** What an operator reads at /metrics. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { localFunctionName } from "../../../local/offline/functions.ts";
import { produce } from "../../support/kafka.ts";
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
      // Counted once each, after the commit: two taken, one paid, one cancelled, their two frames sent.
      await eventually(
        async () => {
          const now = await scrape(stack.metricsUrl);
          const grew = (name: string) => counted(now, name) - counted(before, name);
          return grew(accepted) === 2 && grew(finished) === 1 && grew(cancelled) === 1 && grew(pushed) >= 2
            ? true
            : undefined;
        },
        10_000,
        "two orders accepted, one finished, one cancelled and their frames pushed, at /metrics",
      );
    } finally {
      socket.close();
    }

    // A record no consumer can read is parked on its dead-letter topic, which the sample counts.
    const parkedBefore = counted(before, `gozon_dead_letters{${fn("sampleMetrics")},topic="orders.created.dlt"}`);
    await produce(stack.kafkaBrokers, "orders.created", [{ key: user.id, value: "not json" }]);

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
        return sampled.length === 7 && sampled.every(([, value]) => value === 0) && parked === parkedBefore + 1
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
