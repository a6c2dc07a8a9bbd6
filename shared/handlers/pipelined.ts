import type { Tx } from "../db/transaction.ts";

/**
 * A record handler broke the consumers' pipelining contract: it sent a statement after its first
 * await. By then the statements of the records after it had gone out, so its own would run after
 * theirs, out of record order. A programming error, never a record's fault: the invocation fails.
 */
export class PipeliningBroken extends Error {}

/**
 * The transaction as a consumer's record handlers see it, checking their contract as they run:
 * every record is handed the transaction before any answer is read, so a handler sends all its
 * statements before it first waits, and waits once. Once every record has been handed over
 * (seal()), a statement can only come from a handler that awaited before sending it.
 */
export class PipelinedRecords {
  private sealed = false;
  readonly tx: Tx;

  constructor(tx: Tx, topic: string) {
    const send = tx.query.bind(tx) as (...args: unknown[]) => unknown;
    const query = ((...args: unknown[]) => {
      if (this.sealed) {
        throw new PipeliningBroken(
          `the ${topic} record handler sent a statement after its first await: send every statement before the first await (see kafkaHandler)`,
        );
      }
      return send(...args);
    }) as Tx["query"];
    this.tx = { ...tx, query };
  }

  /** Every record has been handed over: from here on, no record handler may send a statement. */
  seal(): void {
    this.sealed = true;
  }
}
