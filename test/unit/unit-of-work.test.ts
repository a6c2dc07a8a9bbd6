import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Tx } from "../../shared/db/transaction.ts";
import type { Effect } from "../../shared/effects/effect.ts";
import { afterCommit, EffectOutsideUnitOfWork, inUnitOfWork, recordEffect } from "../../shared/effects/unit-of-work.ts";
import { RELAY_RUNNING } from "../../shared/messaging/relay/relay-lock.ts";

const USER = "2b4b7c8e-9a59-4c38-a6a4-3f2f6a0b1c11";

/** A transaction that commits when told to, answering every probe with `answer`. */
function fakeTx(answer?: unknown) {
  const committed: Array<(answer: unknown) => void> = [];
  const tx: Tx = {
    database: "orders",
    query: (() => Promise.resolve({ rows: [], rowCount: 0 })) as unknown as Tx["query"],
    onCommit: (then: (answer: unknown) => void) => void committed.push(then),
    beforeCommit: () => undefined,
  };
  return { tx, asked: () => committed.length, commit: () => committed.forEach((then) => then(answer)) };
}

const balancePush: Effect = {
  kind: "push",
  userId: USER,
  frames: [{ type: "BALANCE_UPDATED", user_id: USER, balance: 40, version: 2 }],
  correlationId: "deposit-1",
};

/** What a unit of work hands its carrier, as a handler wrapper would run it. */
async function carriedOut(work: () => Promise<void>): Promise<Effect[]> {
  let handed: Effect[] = [];
  await inUnitOfWork(work, async (effects) => void (handed = effects));
  return handed;
}

/** The effects layer (shared/effects/unit-of-work.ts): what follows a commit, and where it may be asked for. */
describe("effects after a commit", () => {
  it("outside a unit of work are refused when asked for, the error naming the effect, and nothing waits for the commit", () => {
    const { tx, asked } = fakeTx();
    assert.throws(
      () => afterCommit(tx, balancePush),
      (error: unknown) =>
        error instanceof EffectOutsideUnitOfWork &&
        error.effect === balancePush &&
        /^Pushing BALANCE_UPDATED to user 2b4b7c8e-\S+ \(correlation id deposit-1\) was asked for outside a unit of work/.test(
          error.message,
        ),
    );
    // An effect made from the commit's answer is named as it would be made without one.
    assert.throws(
      () =>
        afterCommit(tx, (answer) => ({ kind: "relay", database: "orders", running: answer?.running }), RELAY_RUNNING),
      (error: unknown) =>
        error instanceof EffectOutsideUnitOfWork && /^Waking the orders relay was asked/.test(error.message),
    );
    assert.throws(
      () => recordEffect({ kind: "relay", database: "payments" }),
      /Waking the payments relay was asked for outside a unit of work/,
    );
    assert.equal(asked(), 0);
  });

  it("inside a unit of work are handed to its carrier once the transaction commits, made from the commit's answer", async () => {
    const effects = await carriedOut(async () => {
      const { tx, commit } = fakeTx({ running: true });
      afterCommit(tx, (answer) => ({ kind: "relay", database: tx.database, running: answer?.running }), RELAY_RUNNING);
      afterCommit(tx, balancePush);
      commit();
    });
    assert.deepEqual(
      effects.map((e) => (e.kind === "push" ? { kind: e.kind, userId: e.userId } : e)),
      [
        { kind: "relay", database: "orders", running: true },
        { kind: "push", userId: USER },
      ],
    );
  });

  it("inside a unit of work are dropped with a transaction that never commits", async () => {
    const effects = await carriedOut(async () => {
      afterCommit(fakeTx().tx, balancePush);
    });
    assert.deepEqual(effects, []);
  });
});
