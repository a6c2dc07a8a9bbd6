/** The faults that end on a dead-letter topic: poison records, a record that always fails, a long outage. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import pg from "pg";
import type { PartName, RunningStack } from "../../../local/stack.ts";
import { deadLetters } from "../../support/dead-letters.ts";
import { follow, produce, readUntil, type ReadRecord } from "../../support/kafka.ts";
import { eventually } from "../../support/shop-client.ts";
import { checkMoney, type MoneyCheck, type Traffic, type TrafficReport } from "../../support/traffic.ts";

/** What the suite's tests share: its one stack, orders flowing around a fault, and a supervised kill. */
export interface FaultSuite {
  readonly stack: RunningStack;
  underTraffic(
    name: string,
    fault: (traffic: Traffic) => Promise<void>,
    settleWithinMs?: number,
  ): Promise<{ traffic: TrafficReport; money: MoneyCheck }>;
  kill(part: PartName, outageMs?: number): () => Promise<void>;
}

export function deadLetterTests(suite: FaultSuite): void {
  const { underTraffic, kill } = suite;
  it("poison records of every kind on every consumed topic go to the dead-letter topics intact, and nothing stops", async () => {
    const poison: Array<[string, Buffer]> = [
      ["NUL", Buffer.from([0x7b, 0x00, 0x7d])],
      ["invalid UTF-8", Buffer.from([0xc3, 0x28, 0xa0, 0xa1])],
      ["not JSON", Buffer.from("definitely not json")],
      ["wrong shape", Buffer.from("[1,2,3]")],
      ["missing key", Buffer.from(JSON.stringify({ event_type: "OrderCreated", event_version: 1 }))],
      ["near the size limit", Buffer.alloc(900_000, 0x7b)],
    ];
    const topics = ["orders.created", "payments.processed", "payments.balance-updated"];
    const marker = randomUUID();
    await underTraffic("poison records", async () => {
      for (const topic of topics) {
        await produce(
          suite.stack.kafkaBrokers,
          topic,
          poison.map(([, value]) => ({ key: marker, value, headers: { poison: marker } })),
        );
      }
    });
    for (const topic of topics) {
      const letters = await readUntil(
        suite.stack.kafkaBrokers,
        `${topic}.dlt`,
        (m) => m.headers?.poison?.toString() === marker,
        poison.length,
      );
      assert.deepEqual(
        letters.map((m) => m.value!.toString("hex")).sort(),
        poison.map(([, v]) => v.toString("hex")).sort(),
        `every poison record of ${topic} reached ${topic}.dlt byte for byte`,
      );
      assert.ok(letters.every((m) => m.headers!["dlt-reason"]!.toString() === "unreadable"));
    }
  });

  it("a record whose handling fails every time is retried, dead-lettered, and settles once redriven; the rest flow meanwhile", async () => {
    const payments = new pg.Client({ connectionString: suite.stack.paymentsDatabaseUrl });
    await payments.connect();
    const AMOUNT = 4242;
    try {
      // A fault injected in the real database: charging an order of this amount always fails.
      await payments.query(`
        CREATE FUNCTION fail_charge() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure for amount %', NEW.amount; END $$;
        CREATE TRIGGER fail_charge BEFORE INSERT ON payments FOR EACH ROW WHEN (NEW.amount = ${AMOUNT}) EXECUTE FUNCTION fail_charge();`);
      let failing = "";
      let failingUser = "";
      const outcome = underTraffic("one record fails every time", async (traffic) => {
        // A user of its own, whose balance pays exactly this order (the traffic's users run out of
        // money by design, so one of theirs could be refused for funds once redriven).
        failingUser = randomUUID();
        await traffic.request("POST", "/api/payments/create_account", { user_id: failingUser });
        await traffic.request("POST", "/api/payments/deposit", { user_id: failingUser, amount: AMOUNT });
        const placed = await traffic.request("POST", "/api/orders", {
          user_id: failingUser,
          amount: AMOUNT,
          description: "fails every time",
        });
        failing = String(placed.body.order_id);
        traffic.placed.push({ orderId: failing, userId: failingUser, amount: AMOUNT });
        const [letter] = await readUntil(
          suite.stack.kafkaBrokers,
          "orders.created.dlt",
          (m) => m.value?.toString().includes(failing) ?? false,
          1,
          120_000,
        );
        assert.equal(letter!.headers!["dlt-reason"]!.toString(), "retries-exhausted");
        assert.match(letter!.headers!["dlt-error"]!.toString(), /reported record/);
        const order = await traffic.request("GET", `/api/orders/${failing}`);
        assert.equal(order.body.status, "NEW", "not charged, not lost: it waits on the dead-letter topic");
        await payments.query("DROP TRIGGER fail_charge ON payments; DROP FUNCTION fail_charge();");
        const { code, stdout, stderr } = await deadLetters(
          suite.stack,
          "redrive",
          "orders.created.dlt",
          `${letter!.partition}:${letter!.offset}`,
        );
        assert.equal(code, 0, stderr);
        assert.match(stdout, /1 record\(s\) sent back/);
      });
      await outcome;
      const { rows } = await payments.query("SELECT count(*)::int AS n FROM ledger WHERE order_id = $1", [failing]);
      assert.deepEqual(rows, [{ n: 1 }], "the redriven order was charged exactly once");
    } finally {
      await payments
        .query("DROP TRIGGER IF EXISTS fail_charge ON payments; DROP FUNCTION IF EXISTS fail_charge();")
        .catch(() => undefined);
      await payments.end();
    }
  });

  it("the payments PostgreSQL down longer than every retry: charges are dead-lettered, then redriven, each settled once", async () => {
    // Longer than what a charge rides out: six invocations (one and five retries) that each wait
    // about 20 s for the database, and the retries' back-off.
    const OUTAGE_MS = 150_000;
    const letters: ReadRecord[] = [];
    const reader = await follow(suite.stack.kafkaBrokers, "orders.created.dlt", "end", (m) => void letters.push(m));
    let redriven = 0;
    try {
      const outcome = await underTraffic(
        "payments PostgreSQL down 150 s, then redriven",
        async (traffic) => {
          await kill("paymentsDb", OUTAGE_MS)();
          const placedBefore = traffic.placed.slice();
          const ids = new Set(placedBefore.map((p) => p.orderId));
          const mine = () => letters.filter((m) => ids.has(String(JSON.parse(m.value!.toString()).order_id)));
          // Every order taken before the database came back is either final, or waits on the
          // dead-letter topic, NEW, for an operator.
          await eventually(
            async () => {
              const money = await checkMoney(
                suite.stack.ordersDatabaseUrl,
                suite.stack.paymentsDatabaseUrl,
                placedBefore,
                [],
              );
              return money.lost > 0 && money.lost === mine().length ? true : undefined;
            },
            120_000,
            "every order taken during the outage final or dead-lettered, at least one dead-lettered",
          );
          const parked = mine();
          assert.ok(parked.every((m) => m.headers!["dlt-reason"]!.toString() === "retries-exhausted"));
          const { code, stdout, stderr } = await deadLetters(
            suite.stack,
            "redrive",
            "orders.created.dlt",
            ...parked.map((m) => `${m.partition}:${m.offset}`),
          );
          assert.equal(code, 0, stderr);
          assert.match(stdout, new RegExp(`${parked.length} record\\(s\\) sent back`));
          redriven = parked.length;
          console.log(
            `  long outage: ${placedBefore.length} orders taken before the database came back, ${parked.length} dead-lettered and redriven`,
          );
        },
        90_000,
      );
      assert.ok(redriven > 0);
      assert.equal(outcome.money.chargedTwice, 0);
    } finally {
      await reader.stop();
    }
  });
}
