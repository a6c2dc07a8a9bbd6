/** A dead letter redriven by the operator's tool, and as AWS writes it, charged once. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { it } from "node:test";
import { lambdaEventFor } from "serverless-offline-kafka/lambda-event";
import { deadLetters } from "../../support/dead-letters.ts";
import { fetchOffsets, produce, readUntil, type ReadRecord } from "../../support/kafka.ts";
import { eventually } from "../../support/shop-client.ts";
import { moneyHelpers, type MoneyStack } from "./context.ts";

export function redriveTests(m: MoneyStack): void {
  const { fundedUser, settledStatuses, ledgerOf } = moneyHelpers(m);
  it("a dead letter redriven twice (forced the second time), then once more as AWS's letter, is charged once", async () => {
    const { stack, shop, payments } = m;
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
}
