import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import { db } from "../../shared/db/pool.ts";
import { withTransaction } from "../../shared/db/transaction.ts";
import { withEffects } from "../support/effects.ts";
import { emit } from "../../shared/messaging/outbox.ts";
import {
  BrokerUnavailable,
  RecordsRefused,
  type OutboundRecord,
  type Publisher,
} from "../../shared/messaging/publisher.ts";
import { relayOutbox } from "../../shared/messaging/relay/outbox-relay.ts";
import { isRelayRunning } from "../../shared/messaging/relay/relay-lock.ts";
import { pruneExpiredRows } from "../../shared/db/retention.ts";
import { startTestDatabases, type TestDatabases, testPool } from "../support/database.ts";
import { eventually } from "../support/shop-client.ts";

/** A publisher that keeps what it is given, in order, as a broker would. */
function recording(refuse: (r: OutboundRecord) => boolean = () => false): Publisher & { records: OutboundRecord[] } {
  const records: OutboundRecord[] = [];
  return {
    records,
    async publish(batch) {
      if (batch.some(refuse)) throw new RecordsRefused("MESSAGE_TOO_LARGE");
      records.push(...batch);
    },
  };
}

const soon = () => Date.now() + 5_000;
const USER = "550e8400-e29b-41d4-a716-446655440000";

async function placeEvents(n: number, description = "integration"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const orderId = randomUUID();
    await withEffects(() =>
      withTransaction("orders", async (tx) =>
        emit(tx, "orders.created", { order_id: orderId, user_id: USER, amount: 1 + i, description }, orderId),
      ),
    );
    ids.push(orderId);
  }
  return ids;
}

const orderIdOf = (r: OutboundRecord) => (JSON.parse(r.value.toString()) as { order_id: string }).order_id;

describe("the outbox and its relay, on PostgreSQL alone", () => {
  let databases: TestDatabases;
  let orders: pg.Pool;
  before(async () => {
    databases = await startTestDatabases("outbox", 17532);
    orders = testPool(databases.ordersUrl, 3);
  });
  after(async () => {
    await orders?.end();
    await databases?.stop();
  });

  it("emit writes the event with its envelope, keyed by user, and asks for the relay after the commit", async () => {
    const orderId = randomUUID();
    const { result: event, after: effects } = await withEffects(() =>
      withTransaction("orders", async (tx) =>
        emit(tx, "orders.created", { order_id: orderId, user_id: USER, amount: 5, description: "x" }, orderId),
      ),
    );
    assert.deepEqual(effects, [{ kind: "relay", database: "orders", running: false }]);
    assert.equal(event.event_type, "OrderCreated");
    assert.equal(event.correlation_id, orderId);
    const { rows } = await orders.query(
      "SELECT topic, convert_from(record_key, 'UTF8') AS key FROM outbox WHERE event_id = $1",
      [event.event_id],
    );
    assert.deepEqual(rows, [{ topic: "orders.created", key: USER }]);
  });

  it("a payload that breaks its topic's schema is refused before it is written", async () => {
    await assert.rejects(
      withEffects(() =>
        withTransaction("orders", async (tx) =>
          emit(tx, "orders.created", { order_id: "nope", user_id: USER, amount: 1, description: "" }, randomUUID()),
        ),
      ),
      /order_id/,
    );
  });

  it("publishes every waiting row once, oldest first, and marks them only after the publish", async () => {
    await relayOutbox(db("orders"), { publisher: recording(), deadline: soon() });
    const ids = await placeEvents(25);
    const publisher = recording();
    const result = await relayOutbox(db("orders"), { publisher, deadline: soon(), batchSize: 10 });
    assert.equal(result.published, 25);
    assert.deepEqual(publisher.records.map(orderIdOf), ids);
    assert.equal((await relayOutbox(db("orders"), { publisher, deadline: soon() })).published, 0, "nothing twice");
  });

  it("ends at its deadline while rows keep coming, saying so, and the next run publishes them", async () => {
    await relayOutbox(db("orders"), { publisher: recording(), deadline: soon() });
    await placeEvents(3);
    const late = await relayOutbox(db("orders"), { publisher: recording(), deadline: Date.now() - 1 });
    assert.deepEqual([late.outOfTime, late.published], [true, 0]);
    assert.equal((await relayOutbox(db("orders"), { publisher: recording(), deadline: soon() })).published, 3);
  });

  it("steps aside while another relay holds the outbox", async () => {
    await placeEvents(1);
    const holder = await orders.connect();
    try {
      await holder.query("SELECT pg_advisory_lock(hashtext('outbox-relay'))");
      const publisher = recording();
      const result = await relayOutbox(db("orders"), { publisher, deadline: soon() });
      assert.deepEqual([result.deferred, result.published], [true, 0]);
    } finally {
      await holder.query("SELECT pg_advisory_unlock(hashtext('outbox-relay'))");
      holder.release();
    }
    assert.equal((await relayOutbox(db("orders"), { publisher: recording(), deadline: soon() })).published, 1);
  });

  it("a relay lingers on its outbox: rows committed meanwhile go out at once, and writers can see it running", async () => {
    const publisher = recording();
    assert.equal(await isRelayRunning(db("orders")), false);
    const lingering = relayOutbox(db("orders"), { publisher, deadline: soon(), lingerMs: 1_500 });
    await eventually(async () => (await isRelayRunning(db("orders"))) || undefined, 5_000, "the relay running");
    const late = randomUUID();
    const { after: asked } = await withEffects(() =>
      withTransaction("orders", async (tx) =>
        emit(tx, "orders.created", { order_id: late, user_id: USER, amount: 1, description: "while it lingers" }, late),
      ),
    );
    assert.deepEqual(
      asked,
      [{ kind: "relay", database: "orders", running: true }],
      "the writer learnt right behind its COMMIT that a relay runs",
    );
    await eventually(
      async () => publisher.records.some((r) => orderIdOf(r) === late) || undefined,
      5_000,
      "the late row published",
    );
    const result = await lingering;
    assert.equal(result.published, 1);
    assert.equal(await isRelayRunning(db("orders")), false);
  });

  it("while the broker is away: keeps its rows, holds no transaction open, gives up at its deadline, then publishes them", async () => {
    const ids = await placeEvents(3);
    let tries = 0;
    const openTransactions: number[] = [];
    const away: Publisher = {
      async publish() {
        tries += 1;
        const { rows } = await orders.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = 'orders' AND state LIKE 'idle in transaction%'",
        );
        openTransactions.push(rows[0]!.n);
        throw new BrokerUnavailable(new Error("connect ECONNREFUSED"));
      },
    };
    const result = await relayOutbox(db("orders"), { publisher: away, deadline: Date.now() + 1_500 });
    assert.equal(result.brokerUnavailable, true);
    assert.ok(tries >= 2, `retried while waiting (${tries} tries)`);
    assert.deepEqual(new Set(openTransactions), new Set([0]), "no transaction stays open while Kafka is waited for");
    const publisher = recording();
    assert.equal((await relayOutbox(db("orders"), { publisher, deadline: soon() })).published, 3);
    assert.deepEqual(publisher.records.map(orderIdOf), ids);
  });

  it("parks a row the broker refuses, with its error, and the rows behind it still go out in order", async () => {
    const [first] = await placeEvents(1, "fine");
    const [refused] = await placeEvents(1, "refuse me");
    const [last] = await placeEvents(1, "fine");
    const publisher = recording((r) => r.value.toString().includes("refuse me"));
    const result = await relayOutbox(db("orders"), { publisher, deadline: soon() });
    assert.deepEqual([result.published, result.parked], [2, 1]);
    assert.deepEqual(publisher.records.map(orderIdOf), [first, last]);
    const { rows } = await orders.query(
      "SELECT attempts, last_error, parked_at IS NOT NULL AS parked FROM outbox WHERE convert_from(record_value, 'UTF8')::jsonb->>'order_id' = $1",
      [refused],
    );
    assert.deepEqual(rows, [{ attempts: 1, last_error: "MESSAGE_TOO_LARGE", parked: true }]);
    assert.equal(
      (await relayOutbox(db("orders"), { publisher, deadline: soon() })).published,
      0,
      "a parked row is not retried on its own",
    );
  });

  it("prunes published rows, inbox rows and idempotency keys past their retention, and keeps the rest", async () => {
    await orders.query(
      "UPDATE outbox SET published_at = now() - interval '100 hours' WHERE published_at IS NOT NULL AND id = (SELECT min(id) FROM outbox)",
    );
    await orders.query(
      "INSERT INTO inbox (event_id, topic, received_at) VALUES ($1, 't', now() - interval '400 hours'), ($2, 't', now())",
      [randomUUID(), randomUUID()],
    );
    await orders.query(
      "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ('s', 'old', 'h', now() - interval '25 hours'), ('s', 'new', 'h', now())",
    );
    const pruned = await pruneExpiredRows(db("orders"), { outboxHours: 72, inboxHours: 336, idempotencyKeyHours: 24 });
    assert.deepEqual(pruned, { outbox: 1, inbox: 1, idempotencyKeys: 1 });
    const { rows } = await orders.query("SELECT key FROM idempotency_keys WHERE scope = 's'");
    assert.deepEqual(rows, [{ key: "new" }]);
  });
});
