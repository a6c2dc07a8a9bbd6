import type pg from "pg";
import type { AfterCommit, Database } from "../after-commit.ts";
import { db, withConnection } from "./pool.ts";

/**
 * A transaction in progress: its statements, and what the code inside it asks to happen once it
 * has committed (collected as data, see AfterCommit).
 */
export interface Tx {
  readonly database: Database;
  query: pg.PoolClient["query"];
  afterCommit(effect: AfterCommit): void;
  /** Runs `write` once, right before COMMIT: lets a writer gather its rows into one statement. */
  beforeCommit(key: string, write: () => Promise<void>): void;
}

export interface Committed<T> {
  result: T;
  after: AfterCommit[];
}

/** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
export async function withTransaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<Committed<T>> {
  return withConnection(db(database), async (client, discard) => {
    try {
      await client.query("BEGIN");
      const after: AfterCommit[] = [];
      const finalWrites = new Map<string, () => Promise<void>>();
      const tx: Tx = {
        database,
        query: client.query.bind(client) as Tx["query"],
        afterCommit: (effect) => void after.push(effect),
        beforeCommit: (key, write) => void (finalWrites.has(key) || finalWrites.set(key, write)),
      };
      const result = await work(tx);
      for (const write of finalWrites.values()) await write();
      await client.query("COMMIT");
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
