/**
 * `npm run dead-letters -- list` shows what sits in the dead-letter topics: how many records, why
 * they failed, the oldest, and each record's position.
 * `npm run dead-letters -- redrive <dlt-topic> (--all | <partition>:<offset> ...)` sends the chosen
 * records back to their source topic, key, value and original headers as they were, once the
 * cause is fixed. Redriving is safe to repeat: consumers drop an event they already handled (inbox).
 * Brokers: KAFKA_BROKERS (default 127.0.0.1:9092).
 */
import { randomUUID } from "node:crypto";
import { Admin, Consumer, Producer, compatibilityPartitioner, type BaseOptions } from "@platformatic/kafka";
import { sourceRecordOf, type SourceRecord } from "serverless-offline-kafka/lambda-event";
import { ALL_TOPICS, deadLetterTopic, TOPICS, type Topic } from "../shared/contract/events.ts";
import { DLT_HEADER_PREFIX } from "../shared/messaging/dead-letter.ts";

interface DeadLetter {
  partition: number;
  offset: string;
  message: SourceRecord;
  meta: Record<string, string>;
}

const options: BaseOptions = {
  clientId: "dead-letters",
  bootstrapBrokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
  connectTimeout: 3_000,
  requestTimeout: 10_000,
  retries: 2,
};

function metaOf(headers: SourceRecord["headers"] = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name.startsWith(DLT_HEADER_PREFIX))
      .map(([name, value]) => [name.slice(DLT_HEADER_PREFIX.length), String(Array.isArray(value) ? value[0] : value)]),
  );
}

/** The offset of the last record now on each partition of `topic` that holds any. */
async function lastOffsets(topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin(options);
  try {
    const metadata = await admin.metadata({ topics: [topic] });
    const partitions = Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, i) => i);
    const at = async (timestamp: bigint) => {
      const [listed] = await admin.listOffsets({
        topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      });
      return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
    };
    const [low, high] = [await at(-2n), await at(-1n)];
    return new Map(
      partitions
        .filter((p) => (high.get(p) ?? 0n) > (low.get(p) ?? 0n))
        .map((p) => [p, (high.get(p) ?? 0n) - 1n] as const),
    );
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Every record now on `topic`, read from the start up to the current end, without joining any real group. */
async function readAll(topic: string): Promise<DeadLetter[]> {
  const waiting = await lastOffsets(topic);
  const letters: DeadLetter[] = [];
  if (waiting.size === 0) return letters;
  const consumer = new Consumer({ ...options, groupId: `dead-letters-${randomUUID()}`, maxWaitTime: 200 });
  const failed = new Promise<never>((_, reject) => consumer.on("error", reject));
  failed.catch(() => undefined);
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not read ${topic} to its end within 30 s`)), 30_000);
      stream.on("error", (error) => (clearTimeout(timer), reject(error)));
      failed.catch((error: unknown) => (clearTimeout(timer), reject(error)));
      stream.on("data", (read) => {
        const message = sourceRecordOf(read);
        letters.push({ partition: read.partition, offset: message.offset, message, meta: metaOf(message.headers) });
        if (read.offset >= (waiting.get(read.partition) ?? -1n)) waiting.delete(read.partition);
        if (waiting.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await consumer.close(true).catch(() => undefined);
  }
  return letters.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

async function list(topics: string[]): Promise<void> {
  for (const topic of topics) {
    const letters = await readAll(topic);
    const reasons = new Map<string, number>();
    for (const l of letters) reasons.set(l.meta.reason ?? "?", (reasons.get(l.meta.reason ?? "?") ?? 0) + 1);
    const oldest = letters
      .map((l) => l.meta["failed-at"] ?? "")
      .filter(Boolean)
      .sort()[0];
    console.log(
      `${topic}: ${letters.length} record(s)${letters.length ? `; ${[...reasons].map(([r, n]) => `${n} ${r}`).join(", ")}; oldest failed at ${oldest ?? "?"}` : ""}`,
    );
    for (const l of letters) {
      const source = `${l.meta["source-topic"]}-${l.meta["source-partition"]}@${l.meta["source-offset"]}`;
      console.log(
        `  ${l.partition}:${l.offset}  from ${source}  ${l.meta.reason}  key=${l.message.key?.toString("utf8") ?? "-"}  ${l.meta.error ?? ""}`,
      );
    }
  }
}

async function redrive(topic: string, chosen: string[]): Promise<void> {
  const all = chosen.includes("--all");
  const wanted = new Set(chosen.filter((c) => c !== "--all"));
  const letters = (await readAll(topic)).filter((l) => all || wanted.has(`${l.partition}:${l.offset}`));
  if (!all) {
    const found = new Set(letters.map((l) => `${l.partition}:${l.offset}`));
    const missing = [...wanted].filter((w) => !found.has(w));
    if (missing.length) throw new Error(`not in ${topic}: ${missing.join(", ")}`);
  }
  // Keys go to the partitions the shop's producers choose for them.
  const producer = new Producer({ ...options, autocreateTopics: false, partitioner: compatibilityPartitioner });
  try {
    for (const letter of letters) {
      const source = letter.meta["source-topic"];
      if (!source) throw new Error(`${topic} ${letter.partition}:${letter.offset} does not say where it came from`);
      // The original headers, every value of a repeated name, in order.
      const headers = new Map(
        Object.entries(letter.message.headers ?? {})
          .filter(([name]) => !name.startsWith(DLT_HEADER_PREFIX))
          .flatMap(([name, value]) =>
            (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(
              (v) => [Buffer.from(name), Buffer.from(v)] as const,
            ),
          ),
      );
      await producer.send({
        acks: -1,
        messages: [
          {
            topic: source,
            key: letter.message.key ?? undefined,
            value: letter.message.value ?? undefined,
            headers,
          },
        ],
      });
      console.log(`redriven ${topic} ${letter.partition}:${letter.offset} -> ${source}`);
    }
  } finally {
    await producer.close().catch(() => undefined);
  }
  console.log(`${letters.length} record(s) sent back`);
}

const [command, ...rest] = process.argv.slice(2);
const dltTopics = (Object.keys(TOPICS) as Topic[]).map(deadLetterTopic);
try {
  if (command === "list") await list(rest.length ? rest : dltTopics);
  else if (command === "redrive" && rest[0] && ALL_TOPICS.includes(rest[0]) && rest.length > 1)
    await redrive(rest[0], rest.slice(1));
  else {
    console.error(
      "usage: npm run dead-letters -- list [<dlt-topic> ...]\n       npm run dead-letters -- redrive <dlt-topic> (--all | <partition>:<offset> ...)",
    );
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`dead-letters: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
