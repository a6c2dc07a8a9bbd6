import type { MSKEvent, MSKRecord } from "aws-lambda";
import type { z } from "zod";
import type { ReceivedRecord } from "./dead-letter.ts";

/** The records of a Kafka event (MSK or self-managed), one list per partition, each in offset order. */
export function partitionsOf(event: MSKEvent): ReceivedRecord[][] {
  return Object.values(event.records ?? {}).map((records) =>
    records
      .map((r: MSKRecord): ReceivedRecord => ({
        topic: r.topic,
        partition: r.partition,
        offset: Number(r.offset),
        timestamp: Number(r.timestamp),
        key: r.key ? Buffer.from(r.key, "base64") : null,
        value: Buffer.from(r.value ?? "", "base64"),
        headers: (r.headers ?? []).flatMap((header) =>
          Object.entries(header).map(([name, bytes]) => ({ name, value: Buffer.from(bytes as number[]) })),
        ),
      }))
      .sort((a, b) => a.offset - b.offset),
  );
}

export type Decoded<T> = { ok: true; event: T } | { ok: false; error: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads a record's value as its topic's event: UTF-8, then JSON, then the schema. Never throws. */
export function decodeRecord<S extends z.ZodType>(record: ReceivedRecord, schema: S): Decoded<z.infer<S>> {
  let text: string;
  try {
    text = utf8.decode(record.value);
  } catch {
    return { ok: false, error: "value is not UTF-8 text" };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "value is not JSON" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      error: parsed.error.issues
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ")
        .slice(0, 1_000),
    };
  }
  return { ok: true, event: parsed.data };
}
