/**
 * `npm run dead-letters -- list` shows what sits in the dead-letter topics: how many records, why
 * they failed, the oldest, and each record's position.
 * `npm run dead-letters -- redrive <dlt-topic> (--all | <partition>:<offset> ...)` sends the chosen
 * records back to their source topic, key, value and original headers as they were, once the
 * cause is fixed. Redriving is safe to repeat: consumers drop an event they already handled (inbox).
 * Brokers: KAFKA_BROKERS (default 127.0.0.1:9092).
 */
import { randomUUID } from "node:crypto";
import { Kafka, logLevel, type IHeaders, type KafkaMessage } from "kafkajs";
import { ALL_TOPICS, deadLetterTopic, TOPICS, type Topic } from "../shared/contract/events.ts";
import { DLT_HEADER_PREFIX } from "../shared/messaging/dead-letter.ts";

interface DeadLetter {
  partition: number;
  offset: string;
  message: KafkaMessage;
  meta: Record<string, string>;
}

const kafka = new Kafka({
  clientId: "dead-letters",
  brokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
  logLevel: logLevel.NOTHING,
  connectionTimeout: 3_000,
  requestTimeout: 10_000,
  retry: { retries: 2 },
});

function metaOf(headers: IHeaders = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name.startsWith(DLT_HEADER_PREFIX))
      .map(([name, value]) => [name.slice(DLT_HEADER_PREFIX.length), String(Array.isArray(value) ? value[0] : value)]),
  );
}

/** Every record now on `topic`, read from the start up to the current end, without joining any real group. */
async function readAll(topic: string): Promise<DeadLetter[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const waiting = new Map(
    ends.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]),
  );
  const letters: DeadLetter[] = [];
  if (waiting.size === 0) return letters;
  const groupId = `dead-letters-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`could not read ${topic} to its end within 30 s`)), 30_000);
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          letters.push({ partition, offset: message.offset, message, meta: metaOf(message.headers) });
          if (BigInt(message.offset) >= (waiting.get(partition) ?? -1n)) waiting.delete(partition);
          if (waiting.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
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
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (const letter of letters) {
      const source = letter.meta["source-topic"];
      if (!source) throw new Error(`${topic} ${letter.partition}:${letter.offset} does not say where it came from`);
      const headers = Object.fromEntries(
        Object.entries(letter.message.headers ?? {}).filter(([name]) => !name.startsWith(DLT_HEADER_PREFIX)),
      );
      await producer.send({
        topic: source,
        acks: -1,
        messages: [{ key: letter.message.key, value: letter.message.value, headers }],
      });
      console.log(`redriven ${topic} ${letter.partition}:${letter.offset} -> ${source}`);
    }
  } finally {
    await producer.disconnect();
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
