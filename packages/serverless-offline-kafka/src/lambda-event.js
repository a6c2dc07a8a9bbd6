// @ts-check
/** @import { Message } from "@platformatic/kafka" */

/**
 * A record as the event source read it: key and value as bytes, offset and timestamp (ms) as
 * decimal strings, headers by name (a repeated name holds every value, in order).
 * @typedef {object} SourceRecord
 * @property {Buffer | null} key
 * @property {Buffer | null} value
 * @property {string} offset
 * @property {string} timestamp
 * @property {Record<string, Buffer | string | Array<Buffer | string> | undefined>} [headers]
 */

/**
 * @typedef {object} KafkaEventRecord
 * @property {string} topic
 * @property {number} partition
 * @property {number} offset
 * @property {number} timestamp
 * @property {"CREATE_TIME" | "LOG_APPEND_TIME"} timestampType
 * @property {string} [key]
 * @property {string} value
 * @property {Array<Record<string, number[]>>} headers
 */

/**
 * @typedef {object} KafkaLambdaEvent
 * @property {"aws:kafka" | "SelfManagedKafka"} eventSource
 * @property {string} [eventSourceArn]
 * @property {string} bootstrapServers
 * @property {Record<string, KafkaEventRecord[]>} records
 */

/** @typedef {{ kind: "msk", arn: string } | { kind: "kafka" }} KafkaSource */

/**
 * The event AWS Lambda sends for a batch of one partition: records keyed "topic-partition",
 * base64 key and value, headers as arrays of byte values, timestamps in milliseconds.
 * @param {KafkaSource} source
 * @param {string[]} brokers
 * @param {string} topic
 * @param {number} partition
 * @param {SourceRecord[]} messages
 * @returns {KafkaLambdaEvent}
 */
export function lambdaEventFor(source, brokers, topic, partition, messages) {
  /** @type {KafkaEventRecord[]} */
  const records = messages.map((m) => ({
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

/**
 * The SourceRecord of a record as @platformatic/kafka reads it (bytes, no deserializers): every value
 * of a repeated header name kept, in order.
 * @param {Message<Buffer, Buffer, Buffer, Buffer>} message
 * @returns {SourceRecord}
 */
export function sourceRecordOf(message) {
  /** @type {Record<string, Buffer[]>} */
  const headers = {};
  for (const [name, value] of message.headerEntries) (headers[name.toString()] ??= []).push(value ?? Buffer.alloc(0));
  return {
    key: message.key ?? null,
    value: message.value ?? null,
    offset: message.offset.toString(),
    timestamp: message.timestamp.toString(),
    headers,
  };
}
