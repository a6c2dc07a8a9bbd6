// @ts-check
/** @import { BaseOptions } from "@platformatic/kafka" */
/** @import { Failure } from "./dead-letter.js" */
/** @import { ErrorHandling, MappingSettings } from "./error-handling.js" */
/** @import { KafkaSource, SourceRecord } from "./lambda-event.js" */
import http from "node:http";
import { Admin, Producer, compatibilityPartitioner } from "@platformatic/kafka";
import { deadLetterOf } from "./dead-letter.js";
import { deliverPartition } from "./delivery.js";
import { errorHandlingOf } from "./error-handling.js";
import { GroupMember } from "./group-member.js";
import { post } from "./http-post.js";
import { lambdaEventFor } from "./lambda-event.js";
import { waitUntil } from "./wait-until.js";

/**
 * Lambda's Kafka event source mappings, run offline in a process of their own (started by the
 * serverless plugin in index.cjs, which passes the mappings in KAFKA_EVENT_SOURCE): a consumer
 * group member per mapping (group-member.js) invokes its function through serverless-offline's Lambda endpoint
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

/**
 * Errors the client meets while a group forms or rebalances, and then gets past by itself: left out
 * of sight unless nothing else works.
 * @param {string} text
 */
const isGroupChurn = (text) => /coordinator (is )?(not available|is loading|is not aware)|rebalanc/i.test(text);

class KafkaEventSource {
  /** @type {GroupMember[]} */
  members = [];
  /** @type {Producer | undefined} */
  producer;
  /** Kept-alive connections to serverless-offline's Lambda endpoint: an invoke is no new connection. */
  agent = new http.Agent({ keepAlive: true });

  /** @param {Setup} setup */
  constructor(setup) {
    this.setup = setup;
  }

  /**
   * What every client here is given: short waits, so a broker that is away fails a call in seconds.
   * @param {string} clientId
   * @returns {BaseOptions}
   */
  clientOptions(clientId) {
    return {
      clientId,
      bootstrapBrokers: this.setup.brokers,
      connectTimeout: 1_000,
      requestTimeout: 10_000,
      retries: 3,
      retryDelay: 250,
      autocreateTopics: false,
    };
  }

  async start() {
    const { brokers } = this.setup;
    /** @type {Mapping[]} */
    const mappings = this.setup.mappings.map((m) => ({ ...m, handling: errorHandlingOf(m.settings, m.topic) }));
    await this.waitForTopics([
      ...new Set(mappings.flatMap((m) => [m.topic, ...(m.handling.onFailureTopic ? [m.handling.onFailureTopic] : [])])),
    ]);
    // Keys go to the partitions kafkajs and the Java client would choose (murmur2, sign bit masked).
    this.producer = this.logged(
      new Producer({ ...this.clientOptions("kafka-event-source"), partitioner: compatibilityPartitioner }),
    );

    await Promise.all(
      mappings.map(async (mapping) => {
        const warn = (/** @type {string} */ line) =>
          isGroupChurn(line) || say.warning(`Kafka event source: ${mapping.functionKey}: ${line}`);
        const member = new GroupMember(
          {
            topic: mapping.topic,
            fromBeginning: mapping.fromBeginning,
            consumer: {
              ...this.clientOptions("kafka-event-source"),
              groupId: mapping.groupId,
              sessionTimeout: 10_000,
              rebalanceTimeout: 10_000,
              heartbeatInterval: 1_000,
              maxWaitTime: 100,
              autocommit: false,
            },
          },
          {
            deliver: (topic, partition, records, own) =>
              this.deliver(mapping, brokers, topic, partition, records, own, (line) =>
                say.warning(`Kafka event source: ${mapping.functionKey}: ${line}`),
              ),
            warn,
            sleep,
          },
        );
        this.members.push(member);
        await member.start();
        say.notice(`Kafka event source: ${mapping.topic} -> ${mapping.functionKey} (group ${mapping.groupId})`);
      }),
    );
    // Start scripts wait for this line.
    say.notice(`Kafka event source ready (${this.members.length} consumers on ${brokers.join(",")})`);
  }

  /**
   * Broker connections that fail, one line each (the client has no logger of its own: it throws, and emits).
   * @template {Admin | Producer} T
   * @param {T} client
   * @returns {T}
   */
  logged(client) {
    client.on("client:broker:failed", ({ broker }) =>
      say.warning(`Kafka event source: ${client.clientId}: connection to ${broker.host}:${broker.port} failed`),
    );
    return client;
  }

  /**
   * Hands one partition's records to the function, as Lambda does (delivery.js).
   * @param {Mapping} mapping
   * @param {string[]} brokers
   * @param {string} topic
   * @param {number} partition
   * @param {SourceRecord[]} records
   * @param {{ commit: (next: string) => Promise<void>, stillOwned: () => boolean }} own
   * @param {(line: string) => void} warn
   * @returns {Promise<void>}
   */
  async deliver(mapping, brokers, topic, partition, records, own, warn) {
    await deliverPartition(records, {
      topic,
      partition,
      batchSize: mapping.batchSize,
      handling: mapping.handling,
      invoke: (batch) =>
        this.invoke(mapping.functionName, lambdaEventFor(mapping.source, brokers, topic, partition, batch)),
      commit: own.commit,
      deadLetter: (failed, failure) => this.deadLetter(mapping, topic, partition, failed, failure),
      stillOwned: own.stillOwned,
      warn,
      sleep,
      now: Date.now,
    });
  }

  /**
   * Writes failed records to the mapping's on-failure topic, intact, with why they failed (dead-letter.js).
   * @param {Mapping} mapping
   * @param {string} topic
   * @param {number} partition
   * @param {SourceRecord[]} records
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
      return {
        topic: /** @type {string} */ (mapping.handling.onFailureTopic),
        key: letter.key ?? undefined,
        value: letter.value,
        // A header name may repeat (Kafka allows it): each name is its own Buffer, so every value goes along, in order.
        headers: new Map(letter.headers.map(({ name, value }) => [Buffer.from(name), value])),
      };
    });
    // start() makes the producer before any member joins.
    const producer = /** @type {Producer} */ (this.producer);
    await producer.send({ messages, acks: -1 });
  }

  /**
   * Topics are never auto-created: the source and on-failure topics have to exist when
   * serverless-offline starts, or within a minute of it.
   * @param {string[]} topics
   * @returns {Promise<void>}
   */
  async waitForTopics(topics) {
    const admin = new Admin(this.clientOptions("kafka-event-source-admin"));
    try {
      await waitUntil(
        async () => {
          const existing = new Set(await admin.listTopics());
          const missing = topics.filter((t) => !existing.has(t));
          if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}`);
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: `Kafka event source: topics ${topics.join(", ")}` },
      );
    } finally {
      await admin.close().catch(() => undefined);
    }
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
    const members = this.members.splice(0);
    await Promise.all([...members.map((m) => m.stop()), this.producer?.close().catch(() => undefined)]);
    if (members.length) say.notice("Kafka event source stopped");
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
