import type { MSKEvent } from "aws-lambda";
import type pg from "pg";
import type { z } from "zod";
import { withTransaction, type Tx } from "../db/transaction.ts";
import { logger } from "../logger.ts";
import { parkUnreadableRecord } from "./dead-letter.ts";
import { decodeRecord, recordsOf } from "./kafka-records.ts";

/** Work to do once the batch's transaction has committed, such as a push to open sockets. */
export type AfterCommit = () => Promise<void>;

export interface ConsumeSummary {
  handled: number;
  parked: number;
}

/**
 * Feeds each record of a Kafka event, in partition order, to `handle` after validating it against
 * the topic's schema, all in one transaction: one commit per batch, not per record. An unreadable
 * record is parked on the dead-letter topic and skipped; any other failure rolls the batch back and
 * propagates, so the event source retries it and commits nothing (the inbox makes the retry safe).
 * A function `handle` returns runs after the commit.
 */
export async function consumeRecords<S extends z.ZodType>(
  event: MSKEvent,
  options: { schema: S; db: () => pg.Pool; handle: (tx: Tx, message: z.infer<S>) => Promise<AfterCommit | unknown> },
): Promise<ConsumeSummary> {
  const summary: ConsumeSummary = { handled: 0, parked: 0 };
  const records = recordsOf(event);
  if (records.length === 0) return summary;
  const afterCommit: AfterCommit[] = [];
  await withTransaction(options.db(), async (tx) => {
    for (const record of records) {
      const decoded = decodeRecord(record, options.schema);
      if (!decoded.ok) {
        logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, error: decoded.error }, "unreadable record parked on the dead-letter topic");
        await parkUnreadableRecord(tx, record, decoded.error);
        summary.parked += 1;
        continue;
      }
      const after = await options.handle(tx, decoded.event);
      if (typeof after === "function") afterCommit.push(after as AfterCommit);
      summary.handled += 1;
    }
  });
  for (const after of afterCommit) await after();
  return summary;
}
