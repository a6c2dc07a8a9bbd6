/** The outbox relays: killed mid-publish, two at once, and the scheduled sweep. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { withTransaction } from "../../../shared/db/transaction.ts";
import { idempotentProducer } from "../../../shared/messaging/kafka.ts";
import { addToOutbox, emit } from "../../../shared/messaging/outbox.ts";
import { kafkaPublisher } from "../../../shared/messaging/publisher.ts";
import { relayOutbox } from "../../../shared/messaging/relay/outbox-relay.ts";
import { isRelayRunning } from "../../../shared/messaging/relay/relay-lock.ts";
import { testPool } from "../../support/database.ts";
import { withEffects } from "../../support/effects.ts";
import { createTopic, follow } from "../../support/kafka.ts";
import { eventually, newUserId } from "../../support/shop-client.ts";
import { moneyHelpers, type MoneyStack } from "./context.ts";

export function relayTests(m: MoneyStack): void {
  const { fundedUser, settledStatuses, invokeOrdersRelay, consumedAll, ledgerOf } = moneyHelpers(m);
  it("a relay killed between the broker's ack and marking its rows: published again, charged once, nothing left NEW", async () => {
    const { stack, orders } = m;
    const user = await fundedUser(1000);
    const orderIds = Array.from({ length: 5 }, () => randomUUID());
    // A relay still lingering after the previous test (it listens for new rows for a moment) would publish them first.
    await eventually(async () => ((await isRelayRunning(orders)) ? undefined : true), 10_000, "no relay running");
    // Orders written the way the service writes them, but their relay request is kept back (withEffects
    // hands it to the test instead of carrying it out), so only the crashing relay sees them.
    await withEffects(() =>
      withTransaction("orders", async (tx) => {
        for (const id of orderIds) {
          await tx.query("INSERT INTO orders (id, user_id, amount, description) VALUES ($1, $2, 100, 'crash test')", [
            id,
            user,
          ]);
          emit(tx, "orders.created", { order_id: id, user_id: user, amount: 100, description: "crash test" }, id);
        }
      }),
    );
    const crash = spawn(
      process.execPath,
      ["--import", "tsx", new URL("../../support/relay-that-crashes.ts", import.meta.url).pathname],
      {
        env: {
          ...process.env,
          ORDERS_DATABASE_URL: stack.ordersDatabaseUrl,
          KAFKA_BROKERS: stack.kafkaBrokers.join(","),
        },
        stdio: "inherit",
      },
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      crash.once("exit", (_code, sig) => resolve(sig)),
    );
    assert.equal(signal, "SIGKILL", "the relay died after publishing");
    const { rows } = await orders.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND convert_from(record_value, 'UTF8')::jsonb->>'order_id' = ANY($1)",
      [orderIds],
    );
    assert.equal(rows[0]!.n, 5, "its rows are still unpublished");

    // The payments side already got the first copies; now the real relay publishes them again.
    assert.ok((await invokeOrdersRelay({})).published >= 5);

    const statuses = await settledStatuses(orderIds);
    assert.ok([...statuses.values()].every((s) => s === "FINISHED"));
    await consumedAll("gozon-payments-charges", "orders.created");
    assert.deepEqual(await ledgerOf(user), { charges: 5, per_order_max: 1, sum: 500, balance: 500 });
  });

  it("two relays at once over 1000 orders of 10 users: each user's events arrive in commit order", async () => {
    const { stack } = m;
    const topic = `relay-order-${randomUUID()}`;
    await createTopic(stack.kafkaBrokers, topic, 3);
    const received = new Map<string, number[]>();
    const consumer = await follow(stack.kafkaBrokers, topic, "start", (message) => {
      const user = message.key!.toString();
      received.set(user, [...(received.get(user) ?? []), JSON.parse(message.value!.toString()).seq]);
    });
    const producers = [
      idempotentProducer(stack.kafkaBrokers, "relay-a"),
      idempotentProducer(stack.kafkaBrokers, "relay-b"),
    ];
    const relayPools = [testPool(stack.ordersDatabaseUrl, 2), testPool(stack.ordersDatabaseUrl, 2)];
    try {
      const users = Array.from({ length: 10 }, () => newUserId());
      let writing = true;
      const relays = relayPools.map(async (pool, i) => {
        const publisher = kafkaPublisher({ get: async () => producers[i]!, reset: () => undefined });
        const relay = () => relayOutbox(pool, { publisher, deadline: Date.now() + 30_000 });
        while (writing) await relay();
        await relay();
      });
      // Each user commits its 100 events one after another; the users interleave.
      await Promise.all(
        users.map(async (user) => {
          for (let seq = 0; seq < 100; seq += 1) {
            // Written outside a handler: withEffects keeps each write's relay request back, the relays above publish.
            await withEffects(() =>
              withTransaction("orders", async (tx) =>
                addToOutbox(tx, {
                  eventId: randomUUID(),
                  topic,
                  key: Buffer.from(user),
                  value: Buffer.from(JSON.stringify({ seq })),
                  headers: [],
                }),
              ),
            );
          }
        }),
      );
      writing = false;
      await Promise.all(relays);
      await eventually(
        async () => ([...received.values()].reduce((n, seqs) => n + seqs.length, 0) >= 1000 ? true : undefined),
        30_000,
        "1000 events consumed",
      );
      const expected = Array.from({ length: 100 }, (_, i) => i);
      for (const user of users)
        assert.deepEqual(received.get(user), expected, `events of ${user} in commit order, each once`);
    } finally {
      await consumer.stop();
      await Promise.all(producers.map((p) => p.close()));
      await Promise.all(relayPools.map((p) => p.end()));
    }
  });

  it("the scheduled sweep deletes rows published longer ago than the retention, and keeps the rest", async () => {
    const { orders } = m;
    const [old, recent] = [randomUUID(), randomUUID()];
    await orders.query(
      `INSERT INTO outbox (event_id, topic, record_key, record_value, published_at) VALUES
         ($1, 'retention-test', 'k', '{}', now() - interval '73 hours'),
         ($2, 'retention-test', 'k', '{}', now() - interval '1 hour')`,
      [old, recent],
    );
    assert.ok(
      (await invokeOrdersRelay({ source: "aws.events", "detail-type": "Scheduled Event" })).pruned!.outbox >= 1,
    );
    const { rows } = await orders.query<{ event_id: string }>("SELECT event_id FROM outbox WHERE event_id = ANY($1)", [
      [old, recent],
    ]);
    assert.deepEqual(
      rows.map((r) => r.event_id),
      [recent],
    );
  });
}
