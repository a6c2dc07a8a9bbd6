import type { KafkaMessage } from "kafkajs";

export interface KafkaEventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: "CREATE_TIME" | "LOG_APPEND_TIME";
  key?: string;
  value: string;
  headers: Array<Record<string, number[]>>;
}

export interface KafkaLambdaEvent {
  eventSource: "aws:kafka" | "SelfManagedKafka";
  eventSourceArn?: string;
  bootstrapServers: string;
  records: Record<string, KafkaEventRecord[]>;
}

/**
 * The event AWS Lambda sends for a batch of one partition: records keyed "topic-partition",
 * base64 key and value, headers as arrays of byte values, timestamps in milliseconds.
 */
export function lambdaEventFor(
  source: { kind: "msk"; arn: string } | { kind: "kafka" },
  brokers: string[],
  topic: string,
  partition: number,
  messages: KafkaMessage[],
): KafkaLambdaEvent {
  const records = messages.map((m): KafkaEventRecord => ({
    topic,
    partition,
    offset: Number(m.offset),
    timestamp: Number(m.timestamp),
    timestampType: "CREATE_TIME",
    ...(m.key ? { key: m.key.toString("base64") } : {}),
    value: (m.value ?? Buffer.alloc(0)).toString("base64"),
    headers: Object.entries(m.headers ?? {}).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).map((v) => ({ [name]: [...Buffer.from(v ?? "")] })),
    ),
  }));
  return {
    eventSource: source.kind === "msk" ? "aws:kafka" : "SelfManagedKafka",
    ...(source.kind === "msk" ? { eventSourceArn: source.arn } : {}),
    bootstrapServers: brokers.join(","),
    records: { [`${topic}-${partition}`]: records },
  };
}
