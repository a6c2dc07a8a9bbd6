import type { MSKEvent } from "aws-lambda";
import type pg from "pg";
import type { z } from "zod";
import { withTransaction } from "../db/transaction.ts";
import { logger } from "../logger.ts";
import { parkUnreadableRecord } from "./dead-letter.ts";
import { decodeRecord, recordsOf } from "./kafka-records.ts";

export interface ConsumeSummary {
  handled: number;
  parked: number;
}

/**
 * Feeds each record of a Kafka event, in partition order, to `handle` after validating it against
 * the topic's schema. An unreadable record is parked on the dead-letter topic and skipped; any
 * other failure propagates, so the event source retries the batch and commits nothing.
 */
export async function consumeRecords<S extends z.ZodType>(
  event: MSKEvent,
  options: { schema: S; db: () => pg.Pool; handle: (message: z.infer<S>) => Promise<unknown> },
): Promise<ConsumeSummary> {
  const summary: ConsumeSummary = { handled: 0, parked: 0 };
  for (const record of recordsOf(event)) {
    const decoded = decodeRecord(record, options.schema);
    if (!decoded.ok) {
      logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, error: decoded.error }, "unreadable record parked on the dead-letter topic");
      await withTransaction(options.db(), (tx) => parkUnreadableRecord(tx, record, decoded.error));
      summary.parked += 1;
      continue;
    }
    await options.handle(decoded.event);
    summary.handled += 1;
  }
  return summary;
}
