import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PartName, RunningStack } from "../../local/stack.ts";
import { startStack } from "../../local/stack.ts";
import { eventually } from "../support/shop-client.ts";
import { checkMoney, Traffic, type MoneyCheck, type TrafficReport } from "../support/traffic.ts";
import { deadLetterTests } from "./shop-faults/dead-letters.ts";
import { shifted } from "../support/stack.ts";

/** Ports of their own, so this suite runs beside `npm start` and the other suites. */
const PORTS = shifted({
  http: 4200,
  websocket: 4201,
  lambda: 4202,
  frontend: 4208,
  kafka: 28092,
  kafkaController: 28093,
  ordersDb: 18432,
  paymentsDb: 18433,
  zipkin: 4210,
});
const RATE = 20;

/**
 * The shop under faults, with orders flowing at a steady rate: each part killed (SIGKILL) and
 * brought back by the start command's supervisor, poison records on every consumed topic, and a
 * function that fails for one record every time. Whatever happens, no accepted order is lost or
 * charged twice, every balance adds up, and a fresh order settles afterwards.
 */
describe("the shop heals itself", () => {
  let stack: RunningStack;
  const lines: string[] = [];

  before(async () => {
    stack = await startStack({
      name: "faults",
      ports: PORTS,
      progress: (line) => (lines.push(line), console.log(`  [stack] ${line}`)),
      output: (line) => void lines.push(line),
      // Faults and money, not identity: the shop runs open (sign-in is tested in test/e2e/auth.test.ts).
      env: { ...process.env, AUTH: "off" },
    });
  });
  after(async () => {
    await stack?.stop();
  });

  interface Outcome {
    traffic: TrafficReport;
    money: MoneyCheck;
  }

  /** Orders flow before, during and after `fault`; then every accepted order must settle, correctly. */
  async function underTraffic(
    name: string,
    fault: (traffic: Traffic) => Promise<void>,
    settleWithinMs = 60_000,
  ): Promise<Outcome> {
    const traffic = new Traffic(stack.apiUrl, RATE);
    await traffic.openAccounts(10, 200);
    traffic.start();
    // The traffic stops whatever happens: orders sent on by a failed test would keep it running.
    const stopped = (async () => {
      await eventually(async () => (traffic.placed.length >= RATE * 2 ? true : undefined), 30_000, "orders flowing");
      await fault(traffic);
      const after = traffic.placed.length;
      await eventually(
        async () => (traffic.placed.length >= after + RATE * 3 ? true : undefined),
        60_000,
        "orders accepted again after the fault",
      );
    })().finally(() => traffic.stop());
    await stopped;
    const report = await traffic.stop();
    const settledBy = Date.now() + settleWithinMs;
    let money = await checkMoney(stack.ordersDatabaseUrl, stack.paymentsDatabaseUrl, traffic.placed, traffic.users);
    while (money.lost > 0 && Date.now() < settledBy) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      money = await checkMoney(stack.ordersDatabaseUrl, stack.paymentsDatabaseUrl, traffic.placed, traffic.users);
    }
    console.log(
      `  ${name}: sent ${report.sent}, accepted ${report.accepted}, refused ${report.refused} ${JSON.stringify(report.refusals)}, ` +
        `settled ${money.settled}, lost ${money.lost}, charged twice ${money.chargedTwice}, unbalanced accounts ${money.unbalanced.length}`,
    );
    assert.equal(money.lost, 0, "every accepted order is final");
    assert.equal(money.chargedTwice, 0, "no order charged twice");
    assert.deepEqual(money.unbalanced, [], "balances equal deposits minus FINISHED orders");
    await freshOrderSettles(traffic);
    return { traffic: report, money };
  }

  async function freshOrderSettles(traffic: Traffic): Promise<void> {
    const placed = await traffic.request("POST", "/api/orders", {
      user_id: traffic.users[0],
      amount: 1,
      description: "after the fault",
    });
    assert.equal(placed.status, 201);
    await eventually(
      async () => {
        const order = await traffic.request("GET", `/api/orders/${String(placed.body.order_id)}`);
        return order.body.status !== "NEW" ? true : undefined;
      },
      30_000,
      "a fresh order settled",
    );
  }

  const kill = (part: PartName, outageMs?: number) => async () => {
    const seen = lines.length;
    await stack.kill(part, { outageMs });
    const said = lines.slice(seen).join("\n");
    assert.match(said, /exited unexpectedly/, `the start command said ${part} died`);
    assert.match(said, /is back/, `the start command said ${part} is back`);
  };

  it("the broker killed for 30 s: orders are still accepted, and all of them settle within 30 s of its return", async () => {
    let returned = 0;
    const outcome = await underTraffic(
      "broker down 30 s",
      async () => {
        await kill("kafka", 30_000)();
        returned = Date.now();
      },
      30_000,
    );
    assert.equal(outcome.traffic.refused, 0, "the outbox accepted every order while the broker was away");
    console.log(
      `    all settled ${((Date.now() - returned) / 1000).toFixed(1)} s after the broker returned (fresh order included)`,
    );
  });

  it("the orders PostgreSQL killed for 15 s: its endpoints answer 503 meanwhile, and it heals", async () => {
    const outcome = await underTraffic("orders PostgreSQL down 15 s", async (traffic) => {
      const probe = (async () => {
        await eventually(
          async () => {
            const started = Date.now();
            const answer = await traffic
              .request("GET", `/api/orders?user_id=${traffic.users[0]}`)
              .catch(() => undefined);
            if (answer?.status !== 503) return undefined;
            assert.ok(Date.now() - started < 5_000, "answered within 5 s");
            return true;
          },
          15_000,
          "a 503 while the database is down",
        );
      })();
      await Promise.all([kill("ordersDb", 15_000)(), probe]);
    });
    assert.ok((outcome.traffic.refusals["503"] ?? 0) > 0, "orders were refused with 503 while the database was down");
  });

  it("the payments PostgreSQL killed for 15 s: charges wait for it, none is lost or doubled", async () => {
    await underTraffic("payments PostgreSQL down 15 s", kill("paymentsDb", 15_000));
  });

  it("serverless-offline killed: the start command restarts it and nothing committed is lost", async () => {
    await underTraffic("serverless-offline killed", kill("offline"));
  });

  it("Zipkin hung for 10 s, then killed: every order is accepted and settles as before, and the traces come back", async () => {
    await stack.zipkinReady();
    const zipkin = new URL("/api/v2/", stack.tracesUrl!).href;
    let flow: Traffic | undefined;
    const outcome = await underTraffic("Zipkin hung 10 s, then killed", async (traffic) => {
      flow = traffic;
      // A stopped process still accepts connections: the functions' exports to it get no answer.
      const pid = stack.pidOf("zipkin")!;
      process.kill(pid, "SIGSTOP");
      const before = traffic.placed.length;
      await eventually(
        async () => (traffic.placed.length >= before + RATE * 10 ? true : undefined),
        30_000,
        "orders accepted while Zipkin hangs",
      );
      const placedWhileHung = traffic.placed.slice(before);
      await eventually(
        async () => {
          const money = await checkMoney(
            stack.ordersDatabaseUrl,
            stack.paymentsDatabaseUrl,
            placedWhileHung,
            traffic.users,
          );
          return money.lost === 0 ? true : undefined;
        },
        15_000,
        "the orders placed while Zipkin hangs settled, Zipkin still hung",
      );
      await kill("zipkin")();
    });
    assert.equal(outcome.traffic.refused, 0, "tracing never refuses an order");
    // Spans flow to the new Zipkin: the last order (placed after its return) has its trace, whole
    // up to its status push.
    const orderId = flow!.placed.at(-1)!.orderId;
    await eventually(
      async () => {
        const query = new URLSearchParams({ annotationQuery: `order.id=${orderId}`, lookback: "3600000", limit: "10" });
        const response = await fetch(`${zipkin}traces?${query}`, { signal: AbortSignal.timeout(5_000) });
        const traces = (await response.json()) as Array<Array<{ name: string }>>;
        return traces[0]?.some((span) => span.name === "push order_updated") ? true : undefined;
      },
      30_000,
      "the trace of an order placed after Zipkin's return",
    );
  });

  deadLetterTests({
    get stack() {
      return stack;
    },
    underTraffic,
    kill,
  });
});
