import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { Admin, Consumer, Producer, compatibilityPartitioner, type BaseOptions } from "@platformatic/kafka";
import { sourceRecordOf, type SourceRecord } from "serverless-offline-kafka/lambda-event";
import { eventually } from "./shop-client.ts";

/**
 * What the tests do on Kafka besides the shop itself: write records, read topics, look at a group's
 * offsets. Records read come as the event source hands them on (SourceRecord: bytes, offsets as
 * strings, headers by name), with their partition.
 */
export type ReadRecord = SourceRecord & { partition: number };

/** A record to write; strings are sent as UTF-8, a header may repeat. */
export interface RecordToWrite {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
}

const bytes = (data: Buffer | string): Buffer => (typeof data === "string" ? Buffer.from(data) : data);

const options = (brokers: string[], clientId: string): BaseOptions => ({
  clientId,
  bootstrapBrokers: brokers,
  connectTimeout: 3_000,
  requestTimeout: 10_000,
  retries: 10,
  retryDelay: 250,
});

async function withAdmin<T>(brokers: string[], work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(options(brokers, "test-admin"));
  try {
    return await work(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function partitionsOf(admin: Admin, topic: string): Promise<number[]> {
  const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
  return Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, i) => i);
}

/** Writes records to `topic` (acks=all), keyed to partitions as the shop's producers key them. */
export async function produce(brokers: string[], topic: string, records: RecordToWrite[]): Promise<void> {
  const producer = new Producer({ ...options(brokers, "test-producer"), partitioner: compatibilityPartitioner });
  try {
    await producer.send({
      acks: -1,
      messages: records.map((r) => ({
        topic,
        key: r.key == null ? undefined : bytes(r.key),
        value: r.value == null ? undefined : bytes(r.value),
        headers: new Map(
          Object.entries(r.headers ?? {}).flatMap(([name, value]) =>
            (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(
              (v) => [Buffer.from(name), bytes(v)] as const,
            ),
          ),
        ),
      })),
    });
  } finally {
    await producer.close().catch(() => undefined);
  }
}

/** Creates a topic and waits until each of its partitions has a leader. */
export async function createTopic(brokers: string[], topic: string, partitions: number): Promise<void> {
  await withAdmin(brokers, async (admin) => {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    await eventually(
      async () => {
        const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
        const found = metadata.topics.get(topic);
        return found && found.partitions.every((p) => p.leader >= 0) ? true : undefined;
      },
      15_000,
      `leaders for ${topic}`,
    );
  });
}

/** Each partition's first and next offset (low, high), as decimal strings. */
export async function fetchTopicOffsets(
  brokers: string[],
  topic: string,
): Promise<Array<{ partition: number; low: string; high: string }>> {
  return withAdmin(brokers, async (admin) => {
    const partitions = await partitionsOf(admin, topic);
    const at = async (timestamp: bigint) => {
      const [listed] = await admin.listOffsets({
        topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      });
      return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset.toString()]));
    };
    const [low, high] = [await at(-2n), await at(-1n)];
    return partitions.map((partition) => ({
      partition,
      low: low.get(partition) ?? "0",
      high: high.get(partition) ?? "0",
    }));
  });
}

/** A group's committed offset on each partition of the topic ("-1": none), as decimal strings. */
export async function fetchOffsets(
  brokers: string[],
  { groupId, topics: [topic] }: { groupId: string; topics: [string] },
): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>> {
  return withAdmin(brokers, async (admin) => {
    const partitionIndexes = await partitionsOf(admin, topic);
    const [group] = await admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes }] }],
    });
    const committed = new Map(
      (group?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [
        p.partitionIndex,
        p.committedOffset.toString(),
      ]),
    );
    return [{ topic, partitions: partitionIndexes.map((p) => ({ partition: p, offset: committed.get(p) ?? "-1" })) }];
  });
}

/** Sets a group's committed offset on one partition (the group must have no member). */
export async function setOffset(
  brokers: string[],
  groupId: string,
  topic: string,
  partition: number,
  offset: bigint,
): Promise<void> {
  await withAdmin(brokers, (admin) =>
    admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: topic, partitionOffsets: [{ partition, offset }] }] }),
  );
}

/**
 * Reads `topic` in a group of its own, from its start or from its end, until stopped; resolves once
 * the group is joined and knows where to start, so nothing written after that is missed.
 */
export async function follow(
  brokers: string[],
  topic: string,
  from: "start" | "end",
  take: (record: ReadRecord) => void,
): Promise<{ stop(): Promise<void> }> {
  const consumer = new Consumer({
    ...options(brokers, "test-reader"),
    groupId: `test-read-${randomUUID()}`,
    maxWaitTime: 200,
    maxBytes: 10_000_000,
  });
  // A rejoin that fails is reported as an 'error' event, which would end the test process unheard.
  consumer.on("error", () => undefined);
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: from === "start" ? "earliest" : "latest",
      autocommit: false,
    });
    const positioned = once(stream, "offsets");
    stream.on("error", () => undefined);
    stream.on("data", (message) => take({ ...sourceRecordOf(message), partition: message.partition }));
    await positioned;
  } catch (error) {
    await consumer.close(true).catch(() => undefined);
    throw error;
  }
  return { stop: () => consumer.close(true).catch(() => undefined) };
}

/** Reads a topic from its start until `count` records match, each with its partition (and offset). */
export async function readUntil(
  brokers: string[],
  topic: string,
  match: (m: ReadRecord) => boolean,
  count: number,
  timeoutMs = 60_000,
): Promise<ReadRecord[]> {
  const found: ReadRecord[] = [];
  const reader = await follow(brokers, topic, "start", (m) => void (match(m) && found.push(m)));
  try {
    await eventually(
      async () => (found.length >= count ? true : undefined),
      timeoutMs,
      `${count} record(s) on ${topic}`,
    );
    return found;
  } finally {
    await reader.stop();
  }
}
