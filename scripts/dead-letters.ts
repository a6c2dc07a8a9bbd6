/**
 * `npm run dead-letters -- list [<dlt-topic> ...]` shows what sits in the dead-letter topics: how
 * many records, why they failed, the oldest, and each record's position, source and redrives.
 * `npm run dead-letters -- redrive <dlt-topic> [--force] [--by <name>] (--all | <partition>:<offset> ...)`
 * sends the chosen records back to their source topic, key, value and original headers as they
 * were, once the cause is fixed.
 *
 * It reads both kinds of letter (shared/messaging/read-dead-letter.ts): the local event source's
 * and the consumers' (the record itself with `dlt-*` headers), and AWS Lambda's on-failure record
 * (a JSON invocation record whose payload holds the failed record).
 *
 * Every redrive is written in the redrive ledger (scripts/dead-letters/redrive-ledger.ts: a table in
 * the database of the service that consumes the source topic): claimed before the record is sent,
 * marked sent after the broker acknowledged it. A letter redriven before, or whose redrive was
 * claimed and never confirmed (the tool stopped in between), is refused, naming it, with exit code
 * 1, unless --force: the consumers drop an event they already handled (inbox), so sending one twice
 * costs nothing, but it should never happen by mistake. "By" is --by, or else the OS user and host
 * (`user@host`); on AWS pass the caller, e.g. `--by "$(aws sts get-caller-identity --query Arn --output text)"`.
 *
 * Brokers: KAFKA_BROKERS (default 127.0.0.1:9092), or MSK_CLUSTER_ARN with KAFKA_AUTH, as the
 * functions find them (shared/messaging/kafka.ts). The ledger: ORDERS_DATABASE_URL and
 * PAYMENTS_DATABASE_URL (with *_DATABASE_PASSWORD_SECRET_ARN on AWS), as the functions reach them.
 */
import { randomUUID } from "node:crypto";
import os from "node:os";
import { parseArgs } from "node:util";
import { Admin, Consumer, Producer, compatibilityPartitioner, type BaseOptions } from "@platformatic/kafka";
import { sourceRecordOf } from "serverless-offline-kafka/lambda-event";
import { ALL_TOPICS, deadLetterTopic, TOPICS, type Topic } from "../shared/contract/events.ts";
import { db, endPools } from "../shared/db/pool.ts";
import { discoverBrokers, kafkaOptions } from "../shared/messaging/kafka.ts";
import { partitionEnds, type PartitionEnds } from "../shared/messaging/partition-ends.ts";
import { readDeadLetter, type DeadLetterRead } from "../shared/messaging/read-dead-letter.ts";
import {
  claimRedrive,
  describeRedrives,
  ledgerDatabase,
  markRedriveSent,
  positionKey,
  redrivesOf,
  type Redrive,
} from "./dead-letters/redrive-ledger.ts";

interface Letter {
  partition: number;
  offset: string;
  key: Buffer | null;
  read: DeadLetterRead;
}

const USAGE = `usage: npm run dead-letters -- list [<dlt-topic> ...]
       npm run dead-letters -- redrive <dlt-topic> [--force] [--by <name>] (--all | <partition>:<offset> ...)`;

async function clientOptions(): Promise<BaseOptions> {
  return {
    ...kafkaOptions(await discoverBrokers(), "dead-letters"),
    connectTimeout: 3_000,
    requestTimeout: 10_000,
    timeout: 10_000,
    retries: 2,
  };
}

/** The offset of the last record now on each partition of `topic` that holds any. */
async function lastOffsets(options: BaseOptions, topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin(options);
  try {
    const ends = (await partitionEnds(admin, [topic])).get(topic) ?? new Map<number, PartitionEnds>();
    return new Map([...ends].filter(([, { low, high }]) => high > low).map(([p, { high }]) => [p, high - 1n] as const));
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Every record now on `topic`, read from the start up to the current end, without joining any real group. */
async function readAll(options: BaseOptions, topic: string): Promise<Letter[]> {
  const waiting = await lastOffsets(options, topic);
  const letters: Letter[] = [];
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
      stream.on("data", (message) => {
        const record = sourceRecordOf(message);
        const headers = Object.entries(record.headers ?? {}).flatMap(([name, value]) =>
          (Array.isArray(value) ? value : value === undefined ? [] : [value]).map((v) => ({
            name,
            value: Buffer.from(v),
          })),
        );
        letters.push({
          partition: message.partition,
          offset: record.offset,
          key: record.key,
          read: readDeadLetter({ key: record.key, value: record.value, headers }),
        });
        if (message.offset >= (waiting.get(message.partition) ?? -1n)) waiting.delete(message.partition);
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

/** The ledger of `dltTopic`, or why it could not be read. */
async function ledgerOf(dltTopic: string): Promise<Map<string, Redrive[]> | Error> {
  try {
    return await redrivesOf(db(ledgerDatabase(dltTopic)), dltTopic);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

const sourceOf = (read: DeadLetterRead): string =>
  read.source ? `${read.source.topic}-${read.source.partition}@${read.source.offset}` : "?";

async function list(topics: string[]): Promise<void> {
  const options = await clientOptions();
  for (const topic of topics) {
    const letters = await readAll(options, topic);
    const ledger = letters.length ? await ledgerOf(topic) : new Map<string, Redrive[]>();
    const reasons = new Map<string, number>();
    for (const l of letters) reasons.set(l.read.reason, (reasons.get(l.read.reason) ?? 0) + 1);
    const oldest = letters
      .map((l) => l.read.failedAt ?? "")
      .filter(Boolean)
      .sort()[0];
    const redriven = ledger instanceof Error ? 0 : letters.filter((l) => ledger.has(positionKey(l))).length;
    console.log(
      `${topic}: ${letters.length} record(s)${letters.length ? `; ${[...reasons].map(([r, n]) => `${n} ${r}`).join(", ")}; oldest failed at ${oldest ?? "?"}; ${redriven} redriven` : ""}`,
    );
    if (ledger instanceof Error) console.log(`  (redrive ledger not read: ${ledger.message})`);
    for (const l of letters) {
      const format = l.read.format === "dlt-headers" ? "" : `  [${l.read.format}]`;
      const redrives = ledger instanceof Error ? undefined : ledger.get(positionKey(l));
      console.log(
        `  ${positionKey(l)}  from ${sourceOf(l.read)}  ${l.read.reason}  key=${l.key?.toString("utf8") ?? "-"}  ${l.read.error}${format}`,
      );
      if (redrives) console.log(`      ${describeRedrives(redrives)}`);
      if (l.read.unredrivable) console.log(`      cannot be redriven: ${l.read.unredrivable}`);
    }
  }
}

function operator(): string {
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return `${process.env.USER ?? "unknown"}@${os.hostname()}`;
  }
}

async function redrive(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { all: { type: "boolean" }, force: { type: "boolean" }, by: { type: "string" } },
  });
  const [topic, ...chosen] = positionals;
  if (!topic || !ALL_TOPICS.includes(topic) || (!values.all && chosen.length === 0) || (values.all && chosen.length)) {
    throw new UsageError();
  }
  const by = values.by?.trim() || operator();
  const ledger = db(ledgerDatabase(topic));
  const options = await clientOptions();
  const wanted = new Set(chosen);
  const letters = (await readAll(options, topic)).filter((l) => values.all || wanted.has(positionKey(l)));
  const missing = [...wanted].filter((w) => !letters.some((l) => positionKey(l) === w));
  if (missing.length) throw new Error(`not in ${topic}: ${missing.join(", ")}`);
  let sent = 0;
  let refused = 0;
  // Keys go to the partitions the shop's producers choose for them.
  const producer = new Producer({ ...options, autocreateTopics: false, partitioner: compatibilityPartitioner });
  try {
    for (const letter of letters) {
      const name = `${topic} ${positionKey(letter)}`;
      const { record, source, unredrivable } = letter.read;
      if (!record || !source || unredrivable) {
        console.error(`refused: ${name} cannot be redriven: ${unredrivable ?? "it does not hold the failed record"}`);
        refused += 1;
        continue;
      }
      const at = { topic, partition: letter.partition, offset: letter.offset };
      const claim = await claimRedrive(ledger, at, by, values.force ?? false);
      if ("refused" in claim) {
        console.error(`refused: ${name} was ${describeRedrives(claim.refused)}; --force sends it again`);
        refused += 1;
        continue;
      }
      let result;
      try {
        result = await producer.send({
          acks: -1,
          messages: [
            {
              topic: source.topic,
              key: record.key ?? undefined,
              value: record.value,
              // The original headers, every value of a repeated name, in order.
              headers: new Map(record.headers.map((h) => [Buffer.from(h.name), h.value] as const)),
            },
          ],
        });
      } catch (error) {
        throw new Error(
          `${name} -> ${source.topic} not confirmed (${error instanceof Error ? error.message : String(error)}); its redrive stays claimed and unconfirmed: check ${source.topic}, then --force to send it again`,
        );
      }
      const written = result.offsets?.[0];
      const sentTo = written ? `${written.topic}-${written.partition}@${written.offset}` : source.topic;
      await markRedriveSent(ledger, at, claim.claimed, sentTo);
      console.log(`redriven ${name} -> ${sentTo} by ${by}${claim.claimed > 1 ? ` (redrive ${claim.claimed})` : ""}`);
      sent += 1;
    }
  } finally {
    await producer.close().catch(() => undefined);
  }
  console.log(`${sent} record(s) sent back${refused ? `; ${refused} refused` : ""}`);
  if (refused) process.exitCode = 1;
}

class UsageError extends Error {}

const [command, ...rest] = process.argv.slice(2);
const dltTopics = (Object.keys(TOPICS) as Topic[]).map(deadLetterTopic);
try {
  if (command === "list") await list(rest.length ? rest : dltTopics);
  else if (command === "redrive") await redrive(rest);
  else throw new UsageError();
} catch (error) {
  if (
    error instanceof UsageError ||
    (error instanceof Error && "code" in error && error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
  ) {
    console.error(USAGE);
    process.exitCode = 2;
  } else {
    console.error(`dead-letters: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
} finally {
  await endPools();
}
