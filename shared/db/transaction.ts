import type pg from "pg";
import type { AfterCommit, Database } from "../after-commit.ts";
import { db, withConnection, writesTogether } from "./pool.ts";

/**
 * A transaction in progress: its statements, and what the code inside it asks to happen once it
 * has committed (collected as data, see AfterCommit).
 */
export interface Tx {
  readonly database: Database;
  query: pg.PoolClient["query"];
  afterCommit(effect: AfterCommit): void;
  /**
   * Runs the statement `write` makes, once, right before COMMIT and in its round trip: lets a
   * writer gather its rows into one statement. `write` is called when the transaction commits.
   */
  beforeCommit(key: string, write: () => Statement): void;
}

export interface Statement {
  text: string;
  values: unknown[];
}

export interface Committed<T> {
  result: T;
  after: AfterCommit[];
}

/**
 * Runs `work` in one transaction: committed if it resolves, rolled back if it throws.
 *
 * The pool's connections pipeline (pool.ts): BEGIN goes out with the first statement of `work`,
 * and the final writes with COMMIT, each group in one write (writesTogether), so a transaction of
 * two statements costs two round trips, not four. Every answer is still awaited before the
 * transaction counts as committed.
 */
export async function withTransaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<Committed<T>> {
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
      const after: AfterCommit[] = [];
      const finalWrites = new Map<string, () => Statement>();
      const tx: Tx = {
        database,
        query,
        afterCommit: (effect) => void after.push(effect),
        beforeCommit: (key, write) => void (finalWrites.has(key) || finalWrites.set(key, write)),
      };
      const result = await work(tx);
      await begun;
      const writes = [...finalWrites.values()].map((write) => {
        const { text, values } = write();
        return query(text, values);
      });
      const [, committed] = await Promise.all([Promise.all(writes), query("COMMIT")]);
      // A transaction that failed unnoticed is answered ROLLBACK, not an error: never take it for a commit.
      if (committed.command !== "COMMIT") throw new Error(`COMMIT was answered ${committed.command}: the transaction was rolled back`);
      return { result, after: dedupe(after) };
    } catch (error) {
      await client.query("ROLLBACK").catch(discard);
      throw error;
    }
  });
}

/** One relay wake-up per database is enough, however many rows a transaction wrote. */
function dedupe(effects: AfterCommit[]): AfterCommit[] {
  const seen = new Set<string>();
  return effects.filter((effect) => {
    if (effect.kind !== "relay") return true;
    if (seen.has(effect.database)) return false;
    seen.add(effect.database);
    return true;
  });
}
