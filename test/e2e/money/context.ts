/** What the money tests share: the stack they run on, and the helpers that act and read through it. */
import assert from "node:assert/strict";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type pg from "pg";
import type { RunningStack } from "../../../local/stack.ts";
import { fetchOffsets, fetchTopicOffsets } from "../../support/kafka.ts";
import { eventually, newUserId, type ShopClient } from "../../support/shop-client.ts";
import { localFunctionName, TEST_PORTS } from "../../support/stack.ts";

/** The suite's one stack, read once its `before` has run. */
export interface MoneyStack {
  readonly stack: RunningStack;
  readonly shop: ShopClient;
  readonly orders: pg.Pool;
  readonly payments: pg.Pool;
  /** What serverless-offline and the Kafka event source printed: the event source says when a function fails. */
  readonly output: string[];
}

export function moneyHelpers(m: MoneyStack) {
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
    const { shop } = m;
    const user = newUserId();
    assert.equal((await shop.createAccount(user)).status, 201);
    if (balance > 0) assert.equal((await shop.deposit(user, balance)).status, 200);
    return user;
  }

  async function settledStatuses(orderIds: string[], timeoutMs = 60_000): Promise<Map<string, string>> {
    const { orders } = m;
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
    const { stack } = m;
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
    const { payments } = m;
    const { rows } = await payments.query<{ charges: number; per_order_max: number; sum: number; balance: number }>(
      `SELECT (SELECT count(*)::int FROM ledger WHERE user_id = $1 AND kind = 'CHARGE') AS charges,
              (SELECT coalesce(max(n), 0)::int FROM (SELECT count(*) AS n FROM ledger WHERE user_id = $1 AND kind = 'CHARGE' GROUP BY order_id) c) AS per_order_max,
              (SELECT coalesce(sum(amount), 0)::int FROM ledger WHERE user_id = $1) AS sum,
              (SELECT balance::int FROM accounts WHERE user_id = $1) AS balance`,
      [user],
    );
    return rows[0]!;
  }

  return { answersByStatus, fundedUser, settledStatuses, invokeOrdersRelay, consumedAll, ledgerOf };
}
