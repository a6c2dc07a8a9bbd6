import type { Producer } from "@platformatic/kafka";
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
  const pending: unknown[] = [error];
  for (let seen = 0; pending.length > 0 && seen < 20; seen += 1) {
    const cause = pending.shift() as { apiId?: unknown; cause?: unknown; errors?: unknown } | null | undefined;
    if (!cause || typeof cause !== "object") continue;
    if (typeof cause.apiId === "string" && REFUSALS.has(cause.apiId)) return cause.apiId;
    // A send to several partitions fails with one error per partition, under `errors`.
    if (Array.isArray(cause.errors)) pending.push(...(cause.errors as unknown[]));
    pending.push(cause.cause);
  }
  return undefined;
}

/**
 * The record's headers in order, repeated names included: each name is its own Buffer, so a name
 * that repeats is a second entry of the Map rather than a replaced one.
 */
function headersOf(record: OutboundRecord): Map<Buffer, Buffer> {
  return new Map(record.headers.map(({ name, value }) => [Buffer.from(name), value]));
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
    try {
      await withTimeout(
        producer.send({
          acks: -1,
          messages: records.map((r) => ({
            topic: r.topic,
            key: r.key ?? undefined,
            value: r.value,
            headers: headersOf(r),
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
