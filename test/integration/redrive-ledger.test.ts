import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import {
  claimRedrive,
  describeRedrives,
  ledgerDatabase,
  markRedriveSent,
  redrivesOf,
} from "../../scripts/dead-letters/redrive-ledger.ts";
import { startTestDatabases, type TestDatabases, testPool } from "../support/database.ts";
import { shifted } from "../support/stack.ts";

/** The redrive ledger of `npm run dead-letters`, on a real PostgreSQL migrated as the shop's. */
describe("the redrive ledger, on PostgreSQL alone", () => {
  let databases: TestDatabases;
  let payments: pg.Pool;
  before(async () => {
    databases = await startTestDatabases("redrive-ledger", shifted({ db: 17536 }).db);
    payments = testPool(databases.paymentsUrl, 6);
  });
  after(async () => {
    await payments?.end();
    await databases?.stop();
  });

  it("lives in the database of the service that consumes the letter's source topic", () => {
    assert.equal(ledgerDatabase("orders.created.dlt"), "payments");
    assert.equal(ledgerDatabase("payments.processed.dlt"), "orders");
    assert.equal(ledgerDatabase("payments.balance-updated.dlt"), "orders");
    assert.throws(() => ledgerDatabase("orders.created"), /not one of the shop's dead-letter topics/);
  });

  it("claims a first redrive, refuses a second, naming who and when, and takes one more only when forced", async () => {
    const at = { topic: "orders.created.dlt", partition: 1, offset: "12" };
    assert.deepEqual(await claimRedrive(payments, at, "ops-a@host", false), { claimed: 1 });

    const unconfirmed = await claimRedrive(payments, at, "ops-b@host", false);
    assert.ok("refused" in unconfirmed);
    assert.equal(unconfirmed.refused.length, 1);
    assert.match(
      describeRedrives(unconfirmed.refused),
      /^redrive claimed at \S+ by ops-a@host, never confirmed sent/,
      "a claim the tool never marked sent says so",
    );

    await markRedriveSent(payments, at, 1, "orders.created-2@40");
    const sent = await claimRedrive(payments, at, "ops-b@host", false);
    assert.ok("refused" in sent);
    assert.match(describeRedrives(sent.refused), /^redriven at \S+ by ops-a@host -> orders.created-2@40$/);

    assert.deepEqual(await claimRedrive(payments, at, "ops-b@host", true), { claimed: 2 });
    await markRedriveSent(payments, at, 2, "orders.created-2@41");
    const redrives = (await redrivesOf(payments, "orders.created.dlt")).get("1:12")!;
    assert.deepEqual(
      redrives.map((r) => [r.attempt, r.by, r.sentTo]),
      [
        [1, "ops-a@host", "orders.created-2@40"],
        [2, "ops-b@host", "orders.created-2@41"],
      ],
    );
    assert.match(describeRedrives(redrives), /^redriven \(2 times\) at \S+ by ops-b@host -> orders.created-2@41$/);
    assert.equal((await redrivesOf(payments, "payments.processed.dlt")).size, 0, "each dead-letter topic its own");
  });

  it("lets one of many claims at once win a letter's first redrive", async () => {
    const at = { topic: "orders.created.dlt", partition: 0, offset: "9007199254740993" };
    const claims = await Promise.all(
      Array.from({ length: 6 }, (_, i) => claimRedrive(payments, at, `ops-${i}@host`, false)),
    );
    assert.equal(claims.filter((c) => "claimed" in c).length, 1);
    const [only] = (await redrivesOf(payments, at.topic)).get(`0:${at.offset}`)!;
    assert.equal(only!.attempt, 1, "an offset past 2^53 is kept exactly");
  });
});
