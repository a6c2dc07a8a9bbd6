import type pg from "pg";
import type { AtCommit, Statement, Tx } from "./transaction.ts";

/**
 * Work done in two halves with nothing to wait for between them: the statements, given as data and
 * sent together, and a decision, made synchronously on their answers, of what the transaction
 * writes with its COMMIT (outbox rows) and asks for after it (effects). A consumer sends every
 * record's statements before it reads any answer, so they run in record order in one round trip
 * (handlers/kafka.ts); a step has no way to wait in between, or to send a statement of its own
 * once answered: the decision sees the transaction without `query` (AtCommit), and cannot return
 * a promise. So nothing checks this at run time: a handler is never handed the transaction, and
 * only a cast would reach `query` from a decision.
 */
export interface Pipelined<R extends Decision = Decision> {
  readonly statements: readonly Statement[];
  decide(tx: AtCommit, answers: readonly pg.QueryResult[]): R;
}

/** What a decision may return: anything but a promise (or another thenable), so it cannot be async. */
export type Decision =
  string | number | boolean | bigint | symbol | null | undefined | void | (object & { then?: never });

/** A statement whose answer has rows of type Row. */
export type Query<Row extends pg.QueryResultRow = pg.QueryResultRow> = Statement & { readonly rows?: Row };

export function sql<Row extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[]): Query<Row> {
  return { text, values };
}

type Answers<Q extends readonly Query[]> = {
  [K in keyof Q]: Q[K] extends Query<infer Row> ? pg.QueryResult<Row> : never;
};

/** A step: these statements, and what to decide on their answers (typed statement by statement). */
export function pipelined<const Q extends readonly Query[], R extends Decision>(
  statements: Q,
  decide: (tx: AtCommit, answers: Answers<Q>) => R,
): Pipelined<R> {
  return { statements, decide: (tx, answers) => decide(tx, answers as Answers<Q>) };
}

/** Steps as one: all their statements, in order, then each decision on its own answers, in order. */
export function together<const S extends readonly Pipelined[]>(
  ...steps: S
): Pipelined<{ [K in keyof S]: ReturnType<S[K]["decide"]> }> {
  return {
    statements: steps.flatMap((step) => step.statements),
    decide: (tx, answers) => {
      let next = 0;
      return steps.map((step) => step.decide(tx, answers.slice(next, (next += step.statements.length)))) as {
        [K in keyof S]: ReturnType<S[K]["decide"]>;
      };
    },
  };
}

/**
 * Sends a step's statements now, behind whatever the connection has sent before them; the answers
 * come back in that order.
 */
export function send(tx: Tx, step: Pipelined): Promise<pg.QueryResult[]> {
  return Promise.all(step.statements.map(({ text, values }) => tx.query(text, values)));
}

/** Runs one step in the caller's transaction: its statements, then its decision. */
export async function run<R extends Decision>(tx: Tx, step: Pipelined<R>): Promise<R> {
  return step.decide(tx, await send(tx, step));
}
