import type { Admin } from "@platformatic/kafka";

/** A partition's earliest offset still held, and the offset the next record will get. */
export interface PartitionEnds {
  low: bigint;
  high: bigint;
}

/**
 * Per topic and partition, where its records begin and end now: two ListOffsets requests for all
 * the topics at once (-2 asks for the earliest offset, -1 for the latest, as Kafka defines them).
 */
export async function partitionEnds(admin: Admin, topics: string[]): Promise<Map<string, Map<number, PartitionEnds>>> {
  const metadata = await admin.metadata({ topics });
  const request = (timestamp: bigint) => ({
    topics: topics.map((name) => ({
      name,
      partitions: Array.from({ length: metadata.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({
        partitionIndex,
        timestamp,
      })),
    })),
  });
  const [earliest, latest] = await Promise.all([admin.listOffsets(request(-2n)), admin.listOffsets(request(-1n))]);
  const ends = new Map<string, Map<number, PartitionEnds>>();
  for (const topic of latest) {
    const lows = earliest.find((t) => t.name === topic.name)?.partitions ?? [];
    const partitions = new Map<number, PartitionEnds>();
    for (const { partitionIndex, offset } of topic.partitions) {
      const low = lows.find((p) => p.partitionIndex === partitionIndex)?.offset ?? 0n;
      partitions.set(partitionIndex, { low, high: offset });
    }
    ends.set(topic.name, partitions);
  }
  return ends;
}
