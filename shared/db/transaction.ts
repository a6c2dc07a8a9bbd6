import type pg from "pg";
import type { Database } from "../contract/manifest.ts";
import { activeTraceIds } from "../active-span.ts";
import { inSpan, SpanKind } from "../tracing/spans.ts";
import { writesTogether } from "./coalesced-writes.ts";
import { withConnection } from "./connection.ts";
import { db } from "./pool.ts";

/**
 * A transaction in progress: its statements, and what the code inside it asks to happen once it
 * has committed (the effects it records, see effects/unit-of-work.ts).
 */
export interface Tx {
  readonly database: Database;
  query: pg.PoolClient["query"];
  /**
   * Calls `then` once the transaction has committed (never if it rolls back). `probe`, if given, is
   * a question for the database right after COMMIT, sent in its round trip; `then` gets its first
   * row, or undefined when it went unanswered.
   */
  onCommit(then: () => void): void;
  onCommit<R>(then: (answer: R | undefined) => void, probe: Probe<R>): void;
  /**
   * Runs the statement `write` makes, once, right before COMMIT and in its round trip: lets a
   * writer gather its rows into one statement. `write` is called when the transaction commits.
   */
  beforeCommit(key: string, write: () => Statement): void;
}

/**
 * A transaction as code sees it once its statements have been answered: it can still have rows
 * written with COMMIT and ask for what follows it, but it sends no statement of its own (a
 * consumer's decision, see db/pipelined.ts).
 */
export type AtCommit = Omit<Tx, "query">;

export interface Statement {
  text: string;
  values: unknown[];
}

/** A statement whose answer's first row is an R. */
export type Probe<R> = Statement & { readonly answers?: R };

/**
 * Runs `work` in one transaction: committed if it resolves, rolled back if it throws.
 *
 * The pool's connections pipeline (pool.ts): BEGIN goes out with the first statement of `work`,
 * and the final writes with COMMIT, each group in one write (writesTogether), so a transaction of
 * two statements costs two round trips, not four. Every answer is still awaited before the
 * transaction counts as committed.
 *
 * Inside a trace (an HTTP request) the transaction is a span of its own. A consumer's transaction
 * holds records of many traces: each record has its span instead (handlers/kafka.ts).
 */
export async function withTransaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (!activeTraceIds()) return transaction(database, work);
  return inSpan(
    `${database} transaction`,
    { kind: SpanKind.CLIENT, attributes: { "db.system.name": "postgresql", "db.namespace": database } },
    () => transaction(database, work),
  );
}

async function transaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  return withConnection(db(database), async (client, discard) => {
    const together = writesTogether(client);
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    const query = ((...args: unknown[]) => {
      together();
      return send(...args);
    }) as Tx["query"];
    const begun = query("BEGIN");
    // Awaited below; this only keeps a failure from counting as unhandled if `work` fails first.
    begun.catch(() => undefined);
    try {
      const committed: Array<{ then: (answer: unknown) => void; probe?: Statement }> = [];
      const finalWrites = new Map<string, () => Statement>();
      const tx: Tx = {
        database,
        query,
        onCommit: (then: (answer: unknown) => void, probe?: Statement) => void committed.push({ then, probe }),
        beforeCommit: (key, write) => void (finalWrites.has(key) || finalWrites.set(key, write)),
      };
      const result = await work(tx);
      await begun;
      const writes = [...finalWrites.values()].map((write) => {
        const { text, values } = write();
        return query(text, values);
      });
      const committing = query("COMMIT");
      const answers = committed.map(({ probe }) =>
        probe
          ? query<Record<string, unknown>>(probe.text, probe.values).then(
              (a) => a.rows[0],
              () => undefined,
            )
          : Promise.resolve(undefined),
      );
      const [, commit] = await Promise.all([Promise.all(writes), committing]);
      // A transaction that failed unnoticed is answered ROLLBACK, not an error: never take it for a commit.
      if (commit.command !== "COMMIT")
        throw new Error(`COMMIT was answered ${commit.command}: the transaction was rolled back`);
      const answered = await Promise.all(answers);
      committed.forEach(({ then }, i) => then(answered[i]));
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(discard);
      throw error;
    }
  });
}
