import type { MSKEvent, MSKRecord } from "aws-lambda";
import type { z } from "zod";

export interface ReceivedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string;
}

/** Flattens an MSK / self-managed Kafka event into records, partition by partition, in offset order. */
export function recordsOf(event: MSKEvent): ReceivedRecord[] {
  return Object.values(event.records ?? {})
    .flat()
    .map((r: MSKRecord) => ({
      topic: r.topic,
      partition: r.partition,
      offset: Number(r.offset),
      key: r.key ? Buffer.from(r.key, "base64").toString("utf8") : null,
      value: Buffer.from(r.value ?? "", "base64").toString("utf8"),
    }));
}

export type Decoded<T> = { ok: true; event: T } | { ok: false; error: string };

/** Parses a record's JSON value against its topic's schema; never throws. */
export function decodeRecord<S extends z.ZodType>(record: ReceivedRecord, schema: S): Decoded<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(record.value);
  } catch {
    return { ok: false, error: "value is not JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ") };
  }
  return { ok: true, event: parsed.data };
}
