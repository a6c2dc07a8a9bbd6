import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tx } from "../../shared/db/transaction.ts";
import { PipelinedRecords, PipeliningBroken } from "../../shared/handlers/pipelined.ts";

/** A transaction that answers every statement at once, remembering the order they were sent in. */
function fakeTx(sent: string[]): Tx {
  return {
    database: "payments",
    query: ((text: string) => {
      sent.push(text);
      return Promise.resolve({ rows: [], rowCount: 1 });
    }) as unknown as Tx["query"],
    onCommit: () => undefined,
    beforeCommit: () => undefined,
  };
}

/** Hands two records to `handle` as kafkaHandler does: all first, then the answers, in order. */
async function batchOfTwo(handle: (tx: Tx, n: number) => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const pipelined = new PipelinedRecords(fakeTx(sent), "orders.created");
  const done = [1, 2].map((n) => handle(pipelined.tx, n));
  // Read below, in order, as kafkaHandler reads them.
  for (const d of done) d.catch(() => undefined);
  pipelined.seal();
  for (const d of done) await d;
  return sent;
}

/** The consumers' pipelining contract (shared/handlers/pipelined.ts), as kafkaHandler checks it. */
describe("a record handler's statements, pipelined", () => {
  it("run in record order when each handler sends them all before it first waits, and waits once", async () => {
    const sent = await batchOfTwo(async (tx, n) => {
      await Promise.all([tx.query(`claim ${n}`), tx.query(`debit ${n}`)]);
    });
    assert.deepEqual(sent, ["claim 1", "debit 1", "claim 2", "debit 2"]);
  });

  it("are refused once a handler awaits before sending one: it would run after the next record's", async () => {
    await assert.rejects(
      batchOfTwo(async (tx, n) => {
        await tx.query(`claim ${n}`);
        await tx.query(`debit ${n}`);
      }),
      (error: unknown) =>
        error instanceof PipeliningBroken &&
        /the orders\.created record handler sent a statement after its first await/.test(error.message),
    );
  });

  it("are refused even in a batch of one record, so a single-record test catches the mistake", async () => {
    const sent: string[] = [];
    const pipelined = new PipelinedRecords(fakeTx(sent), "payments.processed");
    const done = (async (tx: Tx) => {
      await tx.query("first");
      await tx.query("late");
    })(pipelined.tx);
    pipelined.seal();
    await assert.rejects(done, PipeliningBroken);
    assert.deepEqual(sent, ["first"]);
  });
});
