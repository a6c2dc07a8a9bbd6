import type { IHeaders, Producer } from "kafkajs";
import { config } from "../config.ts";
import { withTimeout } from "../timeout.ts";
import { sharedProducer } from "./kafka.ts";

/** A Kafka record as the outbox holds it: bytes, published as they are. */
export interface OutboundRecord {
  topic: string;
  key: Buffer | null;
  value: Buffer;
  headers: Array<{ name: string; value: Buffer }>;
}

/** The broker cannot be reached or did not answer in time: nothing is wrong with the records. */
export class BrokerUnavailable extends Error {
  constructor(cause: unknown) {
    super(`Kafka unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "BrokerUnavailable";
  }
}

/** The broker answered and refused these records (too large, invalid): sending them again will not help. */
export class RecordsRefused extends Error {
  constructor(readonly reason: string) {
    super(`Kafka refused the records: ${reason}`);
    this.name = "RecordsRefused";
  }
}

/** Sends records in order and resolves once the broker acknowledged all of them (acks=all). */
export interface Publisher {
  publish(records: OutboundRecord[]): Promise<void>;
}

// Errors about the records themselves, as Kafka names them; every other failure is the broker's.
const REFUSALS = new Set([
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_RECORD",
  "CORRUPT_MESSAGE",
  "INVALID_REQUIRED_ACKS",
  "POLICY_VIOLATION",
]);

function refusalOf(error: unknown): string | undefined {
  for (let cause = error, depth = 0; cause && depth < 5; depth += 1) {
    const type = (cause as { type?: unknown }).type;
    if (typeof type === "string" && REFUSALS.has(type)) return type;
    cause =
      (cause as { originalError?: unknown; cause?: unknown }).originalError ?? (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

function headersOf(record: OutboundRecord): IHeaders {
  const headers: IHeaders = {};
  for (const { name, value } of record.headers) {
    const existing = headers[name];
    headers[name] =
      existing === undefined ? value : ([...(Array.isArray(existing) ? existing : [existing]), value] as Buffer[]);
  }
  return headers;
}

/** Publishes through a producer (by default the container's idempotent one), every send bounded in time. */
export const kafkaPublisher = (producers: { get(): Promise<Producer>; reset(): void } = sharedProducer): Publisher => ({
  async publish(records) {
    const cfg = config();
    const tooLarge = records.find((r) => r.value.length + (r.key?.length ?? 0) > cfg.kafkaMaxRecordBytes);
    if (tooLarge)
      throw new RecordsRefused(
        `MESSAGE_TOO_LARGE (${tooLarge.value.length} bytes, at most ${cfg.kafkaMaxRecordBytes})`,
      );
    let producer;
    try {
      producer = await producers.get();
    } catch (error) {
      throw new BrokerUnavailable(error);
    }
    const byTopic = new Map<string, OutboundRecord[]>();
    for (const record of records) byTopic.set(record.topic, [...(byTopic.get(record.topic) ?? []), record]);
    try {
      await withTimeout(
        producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, topicRecords]) => ({
            topic,
            messages: topicRecords.map((r) => ({ key: r.key, value: r.value, headers: headersOf(r) })),
          })),
        }),
        cfg.kafkaSendTimeoutMs,
        "Kafka send",
      );
    } catch (error) {
      // After a failed send an idempotent producer's sequence numbers cannot be trusted: start afresh.
      producers.reset();
      const refusal = refusalOf(error);
      throw refusal ? new RecordsRefused(refusal) : new BrokerUnavailable(error);
    }
  },
});
