import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type pg from "pg";
import { lambdaEventFor } from "serverless-offline-kafka/lambda-event";
import type { RunningStack } from "../../local/stack.ts";
import { withTransaction } from "../../shared/db/transaction.ts";
import { addToOutbox, emit } from "../../shared/messaging/outbox.ts";
import { idempotentProducer } from "../../shared/messaging/kafka.ts";
import { kafkaPublisher } from "../../shared/messaging/publisher.ts";
import { relayOutbox } from "../../shared/messaging/relay/outbox-relay.ts";
import { isRelayRunning } from "../../shared/messaging/relay/relay-lock.ts";
import { assertDocumented, documentedAnswers, SIGN_IN_STATUSES } from "../support/contract.ts";
import { eventually, newUserId, ShopClient } from "../support/shop-client.ts";
import { localFunctionName, startTestStack, TEST_PORTS } from "../support/stack.ts";
import { testPool } from "../support/database.ts";
import { withEffects } from "../support/effects.ts";
import {
  createTopic,
  fetchOffsets,
  fetchTopicOffsets,
  follow,
  produce,
  readUntil,
  type ReadRecord,
} from "../support/kafka.ts";
import { deadLetters } from "../support/dead-letters.ts";

/**
 * Money under concurrency, redelivery and crashes, against the real broker and databases.
 * The tests read the databases only to check invariants; they act through HTTP and Kafka.
 * The stack runs with AUTH=off: these tests are about money, not identity (test/e2e/auth.test.ts).
 */
describe("money is never lost or taken twice", () => {
  let stack: RunningStack;
  let shop: ShopClient;
  let orders: pg.Pool;
  let payments: pg.Pool;
  /** What serverless-offline and the Kafka event source printed: the event source says when a function fails. */
  const output: string[] = [];

  before(async () => {
    stack = await startTestStack("money", { env: { AUTH: "off" }, output: (line) => void output.push(line) });
    shop = new ShopClient(stack.apiUrl, stack.wsUrl);
    orders = testPool(stack.ordersDatabaseUrl, 4);
    payments = testPool(stack.paymentsDatabaseUrl, 4);
    // The shared modules this file calls directly (the outbox writer) read their database from here.
    process.env.ORDERS_DATABASE_URL = stack.ordersDatabaseUrl;
  });
  after(async () => {
    await orders?.end();
    await payments?.end();
    await stack?.stop();
  });

  /** How many answers had each status, with the first body of each that is not 2xx. */
  function answersByStatus(answers: { status: number; body: unknown }[]): Record<string, number | unknown> {
    const counts: Record<string, number | unknown> = {};
    for (const { status, body } of answers) {
      counts[status] = ((counts[status] as number | undefined) ?? 0) + 1;
      if (status >= 300 && !(`${status} body` in counts)) counts[`${status} body`] = body;
    }
    return counts;
  }

  async function fundedUser(balance: number): Promise<string> {
    const user = newUserId();
    assert.equal((await shop.createAccount(user)).status, 201);
    if (balance > 0) assert.equal((await shop.deposit(user, balance)).status, 200);
    return user;
  }

  async function settledStatuses(orderIds: string[], timeoutMs = 60_000): Promise<Map<string, string>> {
    return eventually(
      async () => {
        const { rows } = await orders.query<{ id: string; status: string }>(
          "SELECT id, status FROM orders WHERE id = ANY($1)",
          [orderIds],
        );
        return rows.length === orderIds.length && rows.every((r) => r.status !== "NEW")
          ? new Map(rows.map((r) => [r.id, r.status]))
          : undefined;
      },
      timeoutMs,
      `${orderIds.length} orders settled`,
    );
  }

  /** Runs the orders relay function through serverless-offline's Lambda endpoint, as AWS would. */
  async function invokeOrdersRelay(event: object): Promise<{ published: number; pruned?: { outbox: number } }> {
    const lambda = new LambdaClient({
      endpoint: `http://127.0.0.1:${TEST_PORTS.lambda}`,
      region: "us-east-1",
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: localFunctionName("ordersOutboxRelay"),
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
    assert.equal(answer.FunctionError, undefined);
    return JSON.parse(Buffer.from(answer.Payload!).toString());
  }

  /** Waits until `group` has committed every record now on `topic`: all copies were consumed. */
  async function consumedAll(group: string, topic: string): Promise<void> {
    const ends = await fetchTopicOffsets(stack.kafkaBrokers, topic);
    await eventually(
      async () => {
        const [committed] = await fetchOffsets(stack.kafkaBrokers, { groupId: group, topics: [topic] });
        const at = new Map(committed!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        // A partition the group never had a record from has no commit (-1); it is done if it is empty.
        return ends.every(
          (end) => BigInt(end.high) === BigInt(end.low) || (at.get(end.partition) ?? -1n) >= BigInt(end.high),
        )
          ? true
          : undefined;
      },
      30_000,
      `${group} consumed ${topic}`,
    );
  }

  async function ledgerOf(user: string) {
    const { rows } = await payments.query<{ charges: number; per_order_max: number; sum: number; balance: number }>(
      `SELECT (SELECT count(*)::int FROM ledger WHERE user_id = $1 AND kind = 'CHARGE') AS charges,
              (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) AS n FROM ledger WHERE user_id = $1 AND kind = 'CHARGE' GROUP BY order_id) c) AS per_order_max,
              (SELECT coalesce(sum(amount), 0)::int FROM ledger WHERE user_id = $1) AS sum,
              (SELECT balance::int FROM accounts WHERE user_id = $1) AS balance`,
      [user],
    );
    return rows[0]!;
  }

  it("100 concurrent orders of 100 on a balance of 5000: exactly 50 paid, 50 cancelled, balance 0", async () => {
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

  it("a relay killed between the broker's ack and marking its rows: published again, charged once, nothing left NEW", async () => {
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
      ["--import", "tsx", new URL("../support/relay-that-crashes.ts", import.meta.url).pathname],
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

  it("the same Idempotency-Key sent 10 times at once makes one deposit", async () => {
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

  it("a dead letter redriven twice (forced the second time), then once more as AWS's letter, is charged once", async () => {
    const AMOUNT = 4444;
    // A fault injected in the real database: charging an order of this amount always fails.
    await payments.query(`
      CREATE FUNCTION fail_redriven_charge() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected failure for amount %', NEW.amount; END $$;
      CREATE TRIGGER fail_redriven_charge BEFORE INSERT ON payments FOR EACH ROW WHEN (NEW.amount = ${AMOUNT}) EXECUTE FUNCTION fail_redriven_charge();`);
    // Enough for two charges: a second one would go through if a duplicate were not dropped.
    const user = await fundedUser(2 * AMOUNT);
    let letter: ReadRecord;
    let orderId: string;
    try {
      const placed = await shop.placeOrder(user, AMOUNT, "dead-lettered, then redriven three times");
      orderId = placed.body.order_id;
      [letter] = (await readUntil(
        stack.kafkaBrokers,
        "orders.created.dlt",
        (m) => m.value?.toString().includes(orderId) ?? false,
        1,
        120_000,
      )) as [ReadRecord];
    } finally {
      await payments.query("DROP TRIGGER fail_redriven_charge ON payments; DROP FUNCTION fail_redriven_charge();");
    }
    const position = `${letter.partition}:${letter.offset}`;
    const sentTo = (stdout: string) => {
      const [, partition, offset] = /-> orders\.created-(\d+)@(\d+)/.exec(stdout) ?? [];
      assert.ok(partition && offset, `where the record went, in: ${stdout}`);
      return { partition: Number(partition), offset: BigInt(offset) };
    };

    const first = await deadLetters(stack, "redrive", "orders.created.dlt", position, "--by", "first-operator");
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /1 record\(s\) sent back/);
    assert.equal((await settledStatuses([orderId])).get(orderId), "FINISHED");

    const again = await deadLetters(stack, "redrive", "orders.created.dlt", position, "--by", "second-operator");
    assert.equal(again.code, 1, "a second redrive is refused");
    assert.match(
      again.stderr,
      new RegExp(
        `refused: orders\\.created\\.dlt ${position} was redriven at \\S+ by first-operator -> orders\\.created-\\d+@\\d+; --force sends it again`,
      ),
    );
    assert.match(again.stdout, /0 record\(s\) sent back; 1 refused/);

    const forced = await deadLetters(
      stack,
      "redrive",
      "orders.created.dlt",
      position,
      "--force",
      "--by",
      "second-operator",
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /by second-operator \(redrive 2\)/);

    // The same record as AWS Lambda writes it to a kafka:// on-failure destination (see
    // test/unit/read-dead-letter.test.ts for AWS's documented format): its invocation record as the value.
    const requestId = randomUUID();
    const header = (name: string) => letter.headers?.[name]?.toString() ?? "";
    const original = {
      ...letter,
      headers: Object.fromEntries(Object.entries(letter.headers ?? {}).filter(([name]) => !name.startsWith("dlt-"))),
    };
    const source = header("dlt-source-topic");
    const payload = lambdaEventFor(
      { kind: "msk", arn: "arn:aws:kafka:us-east-1:123456789012:cluster/shop/x" },
      stack.kafkaBrokers,
      source,
      Number(header("dlt-source-partition")),
      [{ ...original, offset: header("dlt-source-offset"), timestamp: header("dlt-source-timestamp") }],
    );
    const invocationRecord = {
      requestContext: {
        requestId,
        functionArn: "arn:aws:lambda:us-east-1:123456789012:function:gozon-prod-onOrderCreated",
        condition: "RetriesExhausted",
        approximateInvokeCount: 6,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: new Date().toISOString(),
      KafkaBatchInfo: { batchSize: 1, recordInfo: { offset: header("dlt-source-offset") } },
      payload,
    };
    await produce(stack.kafkaBrokers, "orders.created.dlt", [
      { key: letter.key, value: JSON.stringify(invocationRecord) },
    ]);
    const [awsLetter] = await readUntil(
      stack.kafkaBrokers,
      "orders.created.dlt",
      (m) => m.value?.toString().includes(requestId) ?? false,
      1,
    );
    const awsPosition = `${awsLetter!.partition}:${awsLetter!.offset}`;
    const fromAws = await deadLetters(stack, "redrive", "orders.created.dlt", awsPosition);
    assert.equal(fromAws.code, 0, fromAws.stderr);

    // Both copies consumed: the charges group committed past each.
    for (const sent of [sentTo(forced.stdout), sentTo(fromAws.stdout)]) {
      await eventually(
        async () => {
          const [committed] = await fetchOffsets(stack.kafkaBrokers, {
            groupId: "gozon-payments-charges",
            topics: ["orders.created"],
          });
          const at = committed!.partitions.find((p) => p.partition === sent.partition);
          return BigInt(at?.offset ?? "-1") > sent.offset ? true : undefined;
        },
        60_000,
        `orders.created-${sent.partition}@${sent.offset} consumed`,
      );
    }
    assert.deepEqual(await ledgerOf(user), { charges: 1, per_order_max: 1, sum: AMOUNT, balance: AMOUNT });
    const eventId = (JSON.parse(letter.value!.toString()) as { event_id: string }).event_id;
    const inbox = await payments.query("SELECT count(*)::int AS n FROM inbox WHERE event_id = $1", [eventId]);
    assert.deepEqual(inbox.rows, [{ n: 1 }], "the copies were dropped by the inbox");

    // What the operator sees: each letter and its redrives; no copy failed into a new letter.
    const listed = await deadLetters(stack, "list", "orders.created.dlt");
    assert.equal(listed.code, 0, listed.stderr);
    const lines = listed.stdout.split("\n");
    const after = (at: string) => lines[lines.findIndex((l) => l.startsWith(`  ${at}  `)) + 1] ?? "";
    assert.match(after(position), /redriven \(2 times\) at \S+ by second-operator -> orders\.created-\d+@\d+/);
    assert.match(
      lines.find((l) => l.startsWith(`  ${awsPosition}  `)) ?? "",
      /RetriesExhausted .*\[lambda-invocation-record\]/,
    );
    assert.match(after(awsPosition), /redriven at \S+ by \S+@\S+ -> orders\.created-\d+@\d+/);
    for (const sent of [sentTo(first.stdout), sentTo(forced.stdout), sentTo(fromAws.stdout)]) {
      assert.ok(
        !listed.stdout.includes(`from orders.created-${sent.partition}@${sent.offset} `),
        "no redriven copy failed",
      );
    }
  });

  it("answers exactly as the OpenAPI document says, for every documented answer", async () => {
    const user = await fundedUser(0);
    const key = randomUUID();
    const placed = await shop.placeOrder(user, 1);
    const requests: Array<[string, string, unknown?, Record<string, string>?]> = [
      ["POST", "/api/payments/create_account", { user_id: newUserId() }],
      ["POST", "/api/payments/create_account", { user_id: user }],
      ["POST", "/api/payments/create_account", { user_id: "nope" }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 10 }, { "idempotency-key": key }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 11 }, { "idempotency-key": key }],
      ["POST", "/api/payments/deposit", { user_id: newUserId(), amount: 10 }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: -1 }],
      ["GET", `/api/payments/balance?user_id=${user}`],
      ["GET", `/api/payments/balance?user_id=${newUserId()}`],
      ["GET", "/api/payments/balance"],
      ["POST", "/api/orders", { user_id: user, amount: 5, description: "contract" }, { "idempotency-key": key }],
      ["POST", "/api/orders", { user_id: user, amount: 6, description: "contract" }, { "idempotency-key": key }],
      ["POST", "/api/orders", { user_id: user }],
      ["GET", `/api/orders?user_id=${user}`],
      ["GET", "/api/orders?user_id=1"],
      ["GET", `/api/orders/${placed.body.order_id}`],
      ["GET", `/api/orders/${randomUUID()}`],
      ["GET", "/api/orders/1"],
      ["GET", "/api/health"],
      ["POST", "/api/payments/create_account", { user_id: newUserId(), padding: "x".repeat(20_000) }],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 1, padding: "x".repeat(20_000) }],
      ["POST", "/api/orders", { user_id: user, amount: 1, description: "x".repeat(20_000) }],
    ];
    const seen = new Set<string>();
    for (const [method, path, body, headers] of requests)
      seen.add(assertDocumented(method, path, await shop.request(method, path, body, headers)));
    // 401 and 403 need sign-in on: auth.test.ts produces and checks those.
    const withoutSignIn = documentedAnswers().filter(
      (a) => !SIGN_IN_STATUSES.some((status) => a.endsWith(` ${status}`)),
    );
    assert.deepEqual(
      withoutSignIn.filter((a) => !seen.has(a)),
      [],
      "every documented answer was produced",
    );
  });

  it("answers bad input with a problem naming the field, never a 500", async () => {
    const user = await fundedUser(0);
    const cases: Array<[string, string, unknown, number, string]> = [
      ["POST", "/api/payments/create_account", { user_id: user }, 409, "user_id"],
      ["POST", "/api/payments/create_account", { user_id: "00000000-0000-0000-0000-000000000000" }, 400, "user_id"],
      ["POST", "/api/payments/deposit", { user_id: newUserId(), amount: 5 }, 404, "user_id"],
      ["POST", "/api/payments/deposit", { user_id: user, amount: "5" }, 400, "amount"],
      ["POST", "/api/payments/deposit", { user_id: user, amount: 5.5 }, 400, "amount"],
      ["POST", "/api/orders", "{broken", 400, "body"],
      ["POST", "/api/orders", { user_id: user, amount: 1, description: "d".repeat(501) }, 400, "description"],
      ["GET", "/api/orders/not-a-uuid", undefined, 400, "id"],
      ["GET", `/api/orders/${randomUUID()}`, undefined, 404, "id"],
      ["GET", "/api/orders", undefined, 400, "user_id"],
      ["GET", "/api/payments/balance?user_id=xyz", undefined, 400, "user_id"],
    ];
    for (const [method, path, body, status, field] of cases) {
      const answer = await shop.request<{ status: number; field: string; title: string; detail: string }>(
        method,
        path,
        body,
      );
      assert.equal(answer.status, status, `${method} ${path} ${JSON.stringify(answer.body)}`);
      assert.equal(answer.headers.get("content-type"), "application/problem+json");
      assert.equal(answer.body.status, status);
      assert.equal(answer.body.field, field, `${method} ${path}`);
      assert.ok(answer.body.title && answer.body.detail);
    }
  });
});
