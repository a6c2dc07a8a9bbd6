import type { Context, MSKEvent } from "aws-lambda";
import type { ConsumerSpec } from "../contract/manifest.ts";
import { TOPICS, type EventOf, type Topic } from "../contract/events.ts";
import { send, type Pipelined } from "../db/pipelined.ts";
import { withTransaction } from "../db/transaction.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { logger } from "../logger.ts";
import { sleep } from "../timeout.ts";
import { deadLetterRecord, type ReceivedRecord } from "../messaging/dead-letter.ts";
import { decodeRecord, partitionsOf } from "../messaging/records.ts";
import { RecordSpans } from "../tracing/record-spans.ts";
import { invocation } from "./invocations.ts";

/** Lambda's partial batch response for Kafka: the first failed record of each partition. */
export interface KafkaBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: { partition: string; offset: number } }>;
}

class RecordFailed extends Error {
  constructor(
    readonly record: ReceivedRecord,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

const partitionKey = (r: Pick<ReceivedRecord, "topic" | "partition">) => `${r.topic}-${r.partition}`;

/**
 * A Kafka consumer function: every record of the event, partition by partition in offset order,
 * validated against its topic's schema and handed to `handle`, all in one transaction (one commit
 * per batch) whose statements are pipelined: every record's statements go out, in record order,
 * before any answer is read; then each record's decision is made on its answers, in record order.
 * What the decisions ask for after the commit is carried out once it has happened (by the
 * invocation's unit of work).
 * - A record that cannot be read (not UTF-8, not JSON, wrong shape) can never succeed: it is parked
 *   on the dead-letter topic, intact, and the batch goes on.
 * - A record whose handling fails is reported as a batch item failure, and nothing after it on
 *   its partition is handled, so each key keeps its order. The records before it are committed.
 *   The event source retries from it, and dead-letters it once its retries are spent.
 * - While the database cannot be reached (or is overloaded) the whole invocation waits for it,
 *   bounded by the time left, then fails as a whole: an outage is no record's fault.
 * - Each record is handled in a span of the trace its `traceparent` header names (RecordSpans).
 */
export function kafkaHandler<T extends Topic>(
  /** The function's manifest entry (shared/contract/manifest.ts): its topic and its database. */
  consumer: ConsumerSpec<T>,
  /**
   * Handles one record: its statements, and the decision on their answers (db/pipelined.ts). Being
   * synchronous, with a decision that sends nothing and cannot wait, it cannot break the order.
   */
  handle: (event: EventOf<T>) => Pipelined,
): (
  event: MSKEvent,
  context?: Pick<Context, "getRemainingTimeInMillis" | "functionName">,
) => Promise<KafkaBatchResponse> {
  const options = { topic: consumer.trigger.topic, database: consumer.databases[0], handle };
  const { schema } = TOPICS[options.topic];
  return invocation(async (event: MSKEvent, context?: Pick<Context, "getRemainingTimeInMillis" | "functionName">) => {
    const started = performance.now();
    const partitions = partitionsOf(event);
    const functionName = context?.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? "consumer";
    const failed = new Map<string, ReceivedRecord>();
    const spans = new RecordSpans<ReceivedRecord>({ functionName });
    // After a commit: a record at or behind its partition's failure was not handled, and is retried.
    const notCommitted = (record: ReceivedRecord) => {
      const failure = failed.get(partitionKey(record));
      if (!failure || record.offset < failure.offset) return undefined;
      return record === failure ? "record failed; reported for retry" : "behind a failed record; retried with it";
    };
    for (let wait = 250; ;) {
      try {
        await withTransaction(options.database, async (tx) => {
          // Every record's statements are sent before any answer is read, so those of the whole
          // batch go out together (the connection pipelines them, in record order); the answers are
          // then read in that order, and the first failure is the record's.
          const handled: Array<{ record: ReceivedRecord; step: Pipelined; answers: ReturnType<typeof send> }> = [];
          for (const records of partitions) {
            for (const record of records) {
              const failure = failed.get(partitionKey(record));
              if (failure && record.offset >= failure.offset) break;
              const decoded = decodeRecord(record, schema);
              if (!decoded.ok) {
                spans.run(record, () => {
                  logger.warn(
                    { topic: record.topic, partition: record.partition, offset: record.offset, error: decoded.error },
                    "unreadable record dead-lettered",
                  );
                  deadLetterRecord(tx, record, {
                    reason: "unreadable",
                    error: decoded.error,
                    attempts: 1,
                    functionName,
                  });
                });
                continue;
              }
              let step: Pipelined;
              try {
                step = spans.run(record, () => options.handle(decoded.event as EventOf<T>));
              } catch (error) {
                throw new RecordFailed(record, error);
              }
              const answers = send(tx, step);
              // Read below, in order; this only keeps a later record's failure from counting as unhandled.
              answers.catch(() => undefined);
              handled.push({ record, step, answers });
            }
          }
          for (const { record, step, answers } of handled) {
            try {
              const answered = await answers;
              spans.run(record, () => step.decide(tx, answered));
            } catch (error) {
              throw isDatabaseUnavailable(error) ? error : new RecordFailed(record, error);
            }
          }
        });
        spans.end(notCommitted);
        logger.info(
          {
            topic: options.topic,
            records: partitions.reduce((n, p) => n + p.length, 0),
            failed: failed.size,
            ms: Math.round(performance.now() - started),
          },
          "batch handled",
        );
        return {
          batchItemFailures: [...failed.values()].map((r) => ({
            itemIdentifier: { partition: partitionKey(r), offset: r.offset },
          })),
        };
      } catch (error) {
        if (error instanceof RecordFailed) {
          // Undo the whole transaction and run again without this record and those behind it.
          const { record } = error;
          logger.error(
            { err: error.cause, topic: record.topic, partition: record.partition, offset: record.offset },
            "record failed; reported for retry",
          );
          failed.set(partitionKey(record), record);
          continue;
        }
        const left = context?.getRemainingTimeInMillis() ?? 0;
        if (!isDatabaseUnavailable(error) || left < wait + 10_000) {
          spans.fail(error);
          throw error;
        }
        logger.warn({ err: error, retry_in_ms: wait }, "database unavailable; waiting for it");
        await sleep(wait);
        wait = Math.min(wait * 2, 2_000);
      }
    }
  });
}
