// @ts-check
/** @import { Consumer, EachBatchPayload, KafkaMessage, LogEntry, Producer } from "kafkajs" */
/** @import { Failure } from "./dead-letter.js" */
/** @import { ErrorHandling, MappingSettings } from "./error-handling.js" */
/** @import { KafkaSource } from "./lambda-event.js" */
import http from "node:http";
import { Kafka, logLevel } from "kafkajs";
import { deadLetterOf } from "./dead-letter.js";
import { deliverPartition } from "./delivery.js";
import { errorHandlingOf } from "./error-handling.js";
import { post } from "./http-post.js";
import { lambdaEventFor } from "./lambda-event.js";
import { waitUntil } from "./wait-until.js";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

/**
 * Lambda's Kafka event source mappings, run offline in a process of their own (started by the
 * serverless plugin in index.cjs, which passes the mappings in KAFKA_EVENT_SOURCE): a kafkajs
 * consumer group per mapping invokes its function through serverless-offline's Lambda endpoint
 * (its Invoke API, over kept-alive HTTP), synchronously, with the event AWS would send, and commits
 * offsets only after success; failures are handled as `custom.kafkaEventSource.mappings.<function>`
 * says, with AWS's semantics (see delivery.js).
 */

/**
 * One mapping as index.cjs passes it (`handling` is worked out here, from `settings`).
 * @typedef {object} Mapping
 * @property {string} functionKey
 * @property {string} functionName
 * @property {KafkaSource} source
 * @property {string} topic
 * @property {number} batchSize
 * @property {boolean} fromBeginning
 * @property {string} groupId
 * @property {MappingSettings} settings
 * @property {ErrorHandling} handling
 */

/**
 * @typedef {object} Setup
 * @property {string[]} brokers
 * @property {string} lambdaEndpoint
 * @property {Array<Omit<Mapping, "handling">>} mappings
 */

const say = {
  /** @param {string} line */
  notice: (line) => process.stdout.write(`${line}\n`),
  /** @param {string} line */
  warning: (line) => process.stderr.write(`Warning: ${line}\n`),
  /** @param {string} line */
  error: (line) => process.stderr.write(`Error: ${line}\n`),
};

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class KafkaEventSource {
  /** @type {Consumer[]} */
  consumers = [];
  /** @type {Producer | undefined} */
  producer;
  /** Kept-alive connections to serverless-offline's Lambda endpoint: an invoke is no new connection. */
  agent = new http.Agent({ keepAlive: true });

  /** @param {Setup} setup */
  constructor(setup) {
    this.setup = setup;
  }

  async start() {
    const { brokers } = this.setup;
    const kafka = new Kafka({
      clientId: "kafka-event-source",
      brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => this.kafkaLog(entry),
      connectionTimeout: 1_000,
      requestTimeout: 10_000,
    });
    /** @type {Mapping[]} */
    const mappings = this.setup.mappings.map((m) => ({ ...m, handling: errorHandlingOf(m.settings, m.topic) }));
    await this.waitForTopics(kafka, [
      ...new Set(mappings.flatMap((m) => [m.topic, ...(m.handling.onFailureTopic ? [m.handling.onFailureTopic] : [])])),
    ]);
    this.producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 3 } });
    await this.producer.connect();

    await Promise.all(
      mappings.map(async (mapping) => {
        const consumer = kafka.consumer({
          groupId: mapping.groupId,
          sessionTimeout: 10_000,
          heartbeatInterval: 1_000,
          maxWaitTimeInMs: 100,
          allowAutoTopicCreation: false,
        });
        this.consumers.push(consumer);
        consumer.on(consumer.events.CRASH, ({ payload }) =>
          say.warning(
            `Kafka event source: ${mapping.functionKey} consumer stopped (${payload.error.message}); ${payload.restart ? "restarting" : "not restarting"}`,
          ),
        );
        await consumer.connect();
        await consumer.subscribe({ topic: mapping.topic, fromBeginning: mapping.fromBeginning });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 4,
          eachBatch: (payload) => this.deliverBatch(mapping, brokers, consumer, payload),
        });
        say.notice(`Kafka event source: ${mapping.topic} -> ${mapping.functionKey} (group ${mapping.groupId})`);
      }),
    );
    // Start scripts wait for this line.
    say.notice(`Kafka event source ready (${this.consumers.length} consumers on ${brokers.join(",")})`);
  }

  /**
   * @param {Mapping} mapping
   * @param {string[]} brokers
   * @param {Consumer} consumer
   * @param {EachBatchPayload} payload
   * @returns {Promise<void>}
   */
  async deliverBatch(mapping, brokers, consumer, payload) {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    await deliverPartition(batch.messages, {
      topic: batch.topic,
      partition: batch.partition,
      batchSize: mapping.batchSize,
      handling: mapping.handling,
      invoke: (records) =>
        this.invoke(
          mapping.functionName,
          lambdaEventFor(mapping.source, brokers, batch.topic, batch.partition, records),
        ),
      commit: async (next) => {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        resolveOffset((BigInt(next) - 1n).toString());
      },
      deadLetter: (records, failure) => this.deadLetter(mapping, batch.topic, batch.partition, records, failure),
      heartbeat,
      stillOwned: () => isRunning() && !isStale(),
      warn: (line) => say.warning(`Kafka event source: ${mapping.functionKey}: ${line}`),
      sleep,
      now: Date.now,
    });
  }

  /**
   * Writes failed records to the mapping's on-failure topic, intact, with why they failed (dead-letter.js).
   * @param {Mapping} mapping
   * @param {string} topic
   * @param {number} partition
   * @param {KafkaMessage[]} records
   * @param {Omit<Failure, "functionName">} failure
   * @returns {Promise<void>}
   */
  async deadLetter(mapping, topic, partition, records, failure) {
    const messages = records.map((m) => {
      const letter = deadLetterOf(
        {
          topic,
          partition,
          offset: Number(m.offset),
          timestamp: Number(m.timestamp),
          key: m.key,
          value: m.value ?? Buffer.alloc(0),
          headers: Object.entries(m.headers ?? {}).flatMap(([name, value]) =>
            (Array.isArray(value) ? value : [value]).map((v) => ({ name, value: Buffer.from(v ?? "") })),
          ),
        },
        { ...failure, functionName: mapping.functionName },
      );
      // A header name may repeat (Kafka allows it): every value goes along, in order.
      /** @type {Record<string, Buffer[]>} */
      const headers = {};
      for (const { name, value } of letter.headers) (headers[name] ??= []).push(value);
      return { key: letter.key, value: letter.value, headers };
    });
    // start() connects the producer and names the topic before any consumer runs.
    const producer = /** @type {Producer} */ (this.producer);
    await producer.send({ topic: /** @type {string} */ (mapping.handling.onFailureTopic), acks: -1, messages });
  }

  /**
   * kafkajs's own messages, as one readable line each. A group being formed or rebalanced makes it
   * report errors it then retries by itself; those stay out of sight unless nothing else works.
   * @param {LogEntry} entry
   */
  kafkaLog({ level, namespace, log }) {
    const { message, error } = /** @type {{ message: string, error?: string }} */ (log);
    if (/coordinator (is )?(not available|is loading|is not aware)|rebalanc/i.test(`${message} ${error ?? ""}`)) return;
    const line = `Kafka event source: ${namespace}: ${message}${error ? ` (${error})` : ""}`;
    if (level <= logLevel.ERROR) say.error(line);
    else say.warning(line);
  }

  /**
   * Topics are never auto-created: the source and on-failure topics have to exist when
   * serverless-offline starts, or within a minute of it.
   * @param {Kafka} kafka
   * @param {string[]} topics
   * @returns {Promise<void>}
   */
  async waitForTopics(kafka, topics) {
    await waitUntil(
      async () => {
        const admin = kafka.admin();
        try {
          await admin.connect();
          const existing = new Set(await admin.listTopics());
          const missing = topics.filter((t) => !existing.has(t));
          if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}`);
          return true;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `Kafka event source: topics ${topics.join(", ")}` },
    );
  }

  /**
   * Invokes the function synchronously (Lambda's Invoke API, which serverless-offline serves) and
   * answers its error type (if any) and its payload. Plain HTTP rather than the AWS SDK: nothing
   * here needs signing, and the SDK's per-call work was a good part of this process's CPU. A
   * refusal (not found, bad request) or a transport failure throws, and counts as a failed attempt.
   * @param {string} functionName
   * @param {object} event
   * @returns {Promise<{ functionError?: string, payload: string }>}
   */
  async invoke(functionName, event) {
    const answer = await post(
      `${this.setup.lambdaEndpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
      JSON.stringify(event),
      {
        agent: this.agent,
        // Longer than any function's timeout (serverless-offline ends an invocation then): an invoke
        // that still has no answer is a serverless-offline that hangs, and the batch is tried again.
        timeoutMs: 90_000,
        headers: { "x-amz-invocation-type": "RequestResponse" },
      },
    );
    if (answer.status < 200 || answer.status >= 300)
      throw new Error(`the Lambda endpoint answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    const functionError = answer.headers["x-amz-function-error"];
    return typeof functionError === "string" ? { functionError, payload: answer.body } : { payload: answer.body };
  }

  async stop() {
    this.agent.destroy();
    const consumers = this.consumers.splice(0);
    await Promise.all([
      ...consumers.map((c) => c.disconnect().catch(() => undefined)),
      this.producer?.disconnect().catch(() => undefined),
    ]);
    if (consumers.length) say.notice("Kafka event source stopped");
  }
}

const source = new KafkaEventSource(/** @type {Setup} */ (JSON.parse(process.env.KAFKA_EVENT_SOURCE ?? "{}")));
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void source.stop().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// serverless-offline is gone (killed, crashed): nobody is left to invoke, so stop with it.
process.on("disconnect", stop);
// Whatever escapes ends this process; the plugin (index.cjs) starts another.
process.on("unhandledRejection", (error) => {
  say.error(`Kafka event source: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
await source.start();
