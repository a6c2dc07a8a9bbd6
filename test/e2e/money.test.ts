import { after, before, describe } from "node:test";
import type pg from "pg";
import type { RunningStack } from "../../local/stack.ts";
import { testPool } from "../support/database.ts";
import { ShopClient } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";
import { chargedOnceTests } from "./money/charged-once.ts";
import type { MoneyStack } from "./money/context.ts";
import { contractTests } from "./money/contract.ts";
import { redriveTests } from "./money/redrive.ts";
import { relayTests } from "./money/relays.ts";
import { retryTests } from "./money/retries.ts";

/**
 * Money under concurrency, redelivery and crashes, against the real broker and databases.
 * The tests read the databases only to check invariants; they act through HTTP and Kafka.
 * The stack runs with AUTH=off: these tests are about money, not identity (test/e2e/auth.test.ts).
 * The stack starts once; the tests, grouped by what they check, live in money/.
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
    // The shared modules these tests call directly (the outbox writer) read their database from here.
    process.env.ORDERS_DATABASE_URL = stack.ordersDatabaseUrl;
  });
  after(async () => {
    await orders?.end();
    await payments?.end();
    await stack?.stop();
  });

  const m: MoneyStack = {
    get stack() {
      return stack;
    },
    get shop() {
      return shop;
    },
    get orders() {
      return orders;
    },
    get payments() {
      return payments;
    },
    output,
  };
  chargedOnceTests(m);
  relayTests(m);
  retryTests(m);
  redriveTests(m);
  contractTests(m);
});
