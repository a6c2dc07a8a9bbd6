import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OrderCreated } from "../../shared/contract/events.ts";
import { pipelined, run, send, sql, together, type Pipelined } from "../../shared/db/pipelined.ts";
import type { Tx } from "../../shared/db/transaction.ts";
import type { kafkaHandler } from "../../shared/handlers/kafka.ts";

/**
 * A transaction that answers each statement with its own text as a row, a tick later, and logs
 * what happens in order: each statement as it is sent, and (through `log`) each decision.
 */
function fakeTx(log: string[]): Tx {
  return {
    database: "payments",
    query: ((text: string) => {
      log.push(`sent ${text}`);
      return new Promise((resolve) => setImmediate(() => resolve({ rows: [{ text }], rowCount: 1 })));
    }) as unknown as Tx["query"],
    onCommit: () => undefined,
    beforeCommit: () => undefined,
  };
}

/** A record's step as the charge's: two statements, and a decision that logs what it was answered. */
const charge = (log: string[], n: number) =>
  pipelined([sql<{ text: string }>(`claim ${n}`, []), sql<{ text: string }>(`debit ${n}`, [])], (_tx, answers) => {
    log.push(`decided ${answers.map((a) => a.rows[0]!.text).join(" + ")}`);
    return n;
  });

/** The consumers' pipelining (shared/db/pipelined.ts), as kafkaHandler drives it. */
describe("a record handler's statements, pipelined", () => {
  it("go out for every record of a batch before any is answered, then are decided on in record order", async () => {
    const log: string[] = [];
    const tx = fakeTx(log);
    // As kafkaHandler does: every record's statements sent, then each answer read and decided on.
    const steps = [1, 2].map((n) => charge(log, n));
    const answers = steps.map((step) => send(tx, step));
    for (const [i, step] of steps.entries()) step.decide(tx, await answers[i]!);
    assert.deepEqual(log, [
      "sent claim 1",
      "sent debit 1",
      "sent claim 2",
      "sent debit 2",
      "decided claim 1 + debit 1",
      "decided claim 2 + debit 2",
    ]);
  });

  it("of steps put together go out as one, each deciding on its own answers", async () => {
    const log: string[] = [];
    const nothing = pipelined([], () => "nothing to send");
    const decisions = await run(fakeTx(log), together(charge(log, 1), nothing, charge(log, 2)));
    assert.deepEqual(decisions, [1, "nothing to send", 2]);
    assert.deepEqual(log.slice(4), ["decided claim 1 + debit 1", "decided claim 2 + debit 2"]);
  });

  it("cannot be awaited between: an awaiting handler, an async decision or a statement sent by one does not compile", () => {
    type Handle = Parameters<typeof kafkaHandler<"orders.created">>[1];
    const step = charge([], 1);
    const handles: Handle[] = [
      () => step,
      // @ts-expect-error a handler that awaits before its statements go out is not a record handler
      async () => step,
    ];
    // @ts-expect-error the decision is made when the answers are in, not later
    const asyncDecision: Pipelined = pipelined([sql("claim", [])], async () => "decided");
    // @ts-expect-error nor does it return a promise for a decision made later
    const promisedDecision: Pipelined = pipelined([sql("claim", [])], () => Promise.resolve("decided"));
    // @ts-expect-error the same, written out as a step
    const writtenOut: Pipelined = { statements: [], decide: async () => undefined };
    const lateStatement = pipelined([sql("claim", [])], (tx) => {
      // @ts-expect-error a decision sends no statement: it would run after the next record's
      void tx.query("late");
    });
    const steps = [asyncDecision, promisedDecision, writtenOut, lateStatement];
    const typed = (event: OrderCreated) =>
      pipelined([sql<{ reason: string | null }>("debit", [event.order_id])], (_tx, [debited]) => {
        // @ts-expect-error each answer has its statement's row type
        const wrong: number | undefined = debited.rows[0]?.reason;
        return wrong;
      });
    assert.equal(handles.length + steps.length, 6);
    assert.equal(typeof typed, "function");
  });
});
