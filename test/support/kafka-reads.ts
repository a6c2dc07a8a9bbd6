import { randomUUID } from "node:crypto";
import type { Kafka, KafkaMessage } from "kafkajs";
import { eventually } from "./shop-client.ts";

/** Reads a topic from its start until `count` records match, each with its partition (and offset). */
export async function readUntil(
  kafka: Kafka,
  topic: string,
  match: (m: KafkaMessage) => boolean,
  count: number,
  timeoutMs = 60_000,
): Promise<Array<KafkaMessage & { partition: number }>> {
  const found: Array<KafkaMessage & { partition: number }> = [];
  const consumer = kafka.consumer({ groupId: `test-read-${randomUUID()}`, maxBytes: 10_000_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => void (match(message) && found.push({ ...message, partition })),
  });
  try {
    await eventually(
      async () => (found.length >= count ? true : undefined),
      timeoutMs,
      `${count} record(s) on ${topic}`,
    );
    return found;
  } finally {
    await consumer.disconnect();
  }
}
