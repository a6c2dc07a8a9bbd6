import { deadLetterTopic, TOPICS, type Topic } from "../contract/events.ts";
import type { Database } from "../contract/manifest.ts";
import { consumersOf } from "../contract/topology.ts";
import { db } from "../db/pool.ts";
import { logger } from "../logger.ts";
import { gaugeMetric } from "../metrics/emit.ts";
import { sharedAdmin } from "../messaging/kafka.ts";
import { partitionEnds } from "../messaging/partition-ends.ts";
import { outboxBacklog } from "../messaging/outbox-backlog.ts";
import { withTimeout } from "../timeout.ts";

const SAMPLE_TIMEOUT_MS = 5_000;
const DATABASES: readonly Database[] = ["orders", "payments"];

/**
 * The levels that no single invocation sees, sampled on a schedule: each outbox's backlog and the
 * age of its oldest row, each consumer group's lag, and the records on each dead-letter topic.
 * Each part is sampled on its own: a database or broker that does not answer costs only its own
 * numbers (and a log line); a missing sample is what the alarms treat as missing data.
 */
export async function sampleMetrics(): Promise<void> {
  await Promise.all([...DATABASES.map(sampleOutbox), sampleKafka()]);
}

async function sampleOutbox(database: Database): Promise<void> {
  try {
    const { pending, oldestSeconds } = await withTimeout(
      outboxBacklog(db(database)),
      SAMPLE_TIMEOUT_MS,
      `${database} outbox backlog`,
    );
    gaugeMetric("OutboxBacklog", pending, { Database: database });
    gaugeMetric("OutboxOldestAge", oldestSeconds ?? 0, { Database: database });
  } catch (error) {
    logger.warn({ err: error, database }, "metrics: outbox backlog not sampled");
  }
}

async function sampleKafka(): Promise<void> {
  try {
    const admin = await sharedAdmin.get();
    const topics = Object.keys(TOPICS) as Topic[];
    const deadLetterTopics = topics.map(deadLetterTopic);
    const consumers = topics.flatMap((topic) => consumersOf(topic).map(({ group }) => ({ topic, group })));
    const [ends, committed] = await withTimeout(
      Promise.all([
        partitionEnds(admin, [...topics, ...deadLetterTopics]),
        admin.listConsumerGroupOffsets({ groups: consumers.map(({ group }) => group) }),
      ]),
      SAMPLE_TIMEOUT_MS,
      "Kafka offsets",
    );
    for (const { topic, group } of consumers) {
      const offsets = committed.find((g) => g.groupId === group)?.topics.find((t) => t.name === topic)?.partitions;
      let lag = 0n;
      for (const [partition, { low, high }] of ends.get(topic) ?? []) {
        const at = offsets?.find((p) => p.partitionIndex === partition)?.committedOffset ?? -1n;
        // A group that never committed on a partition starts from its earliest record.
        lag += high - (at < low ? low : at);
      }
      gaugeMetric("ConsumerLag", Number(lag), { ConsumerGroup: group });
    }
    for (const topic of deadLetterTopics) {
      const held = [...(ends.get(topic)?.values() ?? [])].reduce((sum, { low, high }) => sum + (high - low), 0n);
      gaugeMetric("DeadLetters", Number(held), { Topic: topic });
    }
  } catch (error) {
    sharedAdmin.reset();
    logger.warn({ err: error }, "metrics: consumer lag and dead letters not sampled");
  }
}
