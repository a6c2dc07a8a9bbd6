import type pg from "pg";
import type { AfterCommit, Database } from "../after-commit.ts";
import { activeTraceIds } from "../tracing/active-span.ts";
import { carrierOf, inSpan, SpanKind } from "../tracing/spans.ts";
import { db, withConnection, writesTogether } from "./pool.ts";

/**
 * A transaction in progress: its statements, and what the code inside it asks to happen once it
 * has committed (collected as data, see AfterCommit).
 */
export interface Tx {
  readonly database: Database;
  query: pg.PoolClient["query"];
  /**
   * Asks for `effect` once the transaction has committed. `probe`, if given, is a question for the
   * database right after COMMIT, sent in its round trip; its answer's first row is added to the
   * effect (an unanswered probe leaves the effect as it was).
   */
  afterCommit(effect: AfterCommit, probe?: Statement): void;
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
 *
 * Inside a trace (an HTTP request) the transaction is a span of its own. A consumer's transaction
 * holds records of many traces: each record has its span instead (handlers/kafka.ts).
 */
export async function withTransaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<Committed<T>> {
  if (!activeTraceIds()) return transaction(database, work);
  return inSpan(`${database} transaction`, { kind: SpanKind.CLIENT, attributes: { "db.system.name": "postgresql", "db.namespace": database } }, () => transaction(database, work));
}

async function transaction<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<Committed<T>> {
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
      const probes = new Map<AfterCommit, Statement>();
      const finalWrites = new Map<string, () => Statement>();
      const tx: Tx = {
        database,
        query,
        afterCommit: (effect, probe) => {
          if (effect.kind === "push" && !effect.origin) effect = { ...effect, origin: carrierOf() };
          after.push(effect);
          if (probe) probes.set(effect, probe);
        },
        beforeCommit: (key, write) => void (finalWrites.has(key) || finalWrites.set(key, write)),
      };
      const result = await work(tx);
      await begun;
      const writes = [...finalWrites.values()].map((write) => {
        const { text, values } = write();
        return query(text, values);
      });
      const committing = query("COMMIT");
      const effects = dedupe(after).map((effect) => {
        const probe = probes.get(effect);
        if (!probe) return Promise.resolve(effect);
        const answer = query<Record<string, unknown>>(probe.text, probe.values);
        return answer.then((a) => ({ ...effect, ...a.rows[0] }) as AfterCommit, () => effect);
      });
      const [, committed] = await Promise.all([Promise.all(writes), committing]);
      // A transaction that failed unnoticed is answered ROLLBACK, not an error: never take it for a commit.
      if (committed.command !== "COMMIT") throw new Error(`COMMIT was answered ${committed.command}: the transaction was rolled back`);
      return { result, after: await Promise.all(effects) };
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
