import http from "node:http";
import { Kafka, logLevel, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry, type Producer } from "kafkajs";
import { deadLetterOf, type Failure } from "../../shared/messaging/dead-letter.ts";
import { post } from "../http-post.ts";
import { waitUntil } from "../process.ts";
import { deliverPartition } from "./delivery.ts";
import { errorHandlingOf, type ErrorHandling, type MappingSettings } from "./error-handling.ts";
import { lambdaEventFor } from "./lambda-event.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

/**
 * Lambda's Kafka event source mappings, run offline in a process of their own (started by the
 * serverless plugin in index.cjs, which passes the mappings in KAFKA_EVENT_SOURCE): a kafkajs
 * consumer group per mapping invokes its function through serverless-offline's Lambda endpoint
 * (its Invoke API, over kept-alive HTTP), synchronously, with the event AWS would send, and commits
 * offsets only after success; failures
 * are handled as `custom.kafkaEventSource.mappings.<function>` says, with AWS's semantics
 * (see delivery.ts).
 */






/** One mapping as index.cjs passes it, with its failure handling worked out here. */
interface Mapping {
  functionKey: string;
  functionName: string;
  source: { kind: "msk"; arn: string } | { kind: "kafka" };
  topic: string;
  batchSize: number;
  fromBeginning: boolean;
  groupId: string;
  settings: MappingSettings;
  handling: ErrorHandling;
}

interface Setup {
  brokers: string[];
  lambdaEndpoint: string;
  mappings: Array<Omit<Mapping, "handling">>;
}

const say = {
  notice: (line: string) => process.stdout.write(`${line}\n`),
  warning: (line: string) => process.stderr.write(`Warning: ${line}\n`),
  error: (line: string) => process.stderr.write(`Error: ${line}\n`),
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class KafkaEventSource {
  private readonly consumers: Consumer[] = [];
  private producer: Producer | undefined;

  constructor(private readonly setup: Setup) {}

  async start(): Promise<void> {
    const { brokers } = this.setup;
    const kafka = new Kafka({
      clientId: "kafka-event-source",
      brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => this.kafkaLog(entry),
      connectionTimeout: 1_000,
      requestTimeout: 10_000,
    });
    const mappings: Mapping[] = this.setup.mappings.map((m) => ({ ...m, handling: errorHandlingOf(m.settings, m.topic) }));
    await this.waitForTopics(kafka, [...new Set(mappings.flatMap((m) => [m.topic, ...(m.handling.onFailureTopic ? [m.handling.onFailureTopic] : [])]))]);
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
          say.warning(`Kafka event source: ${mapping.functionKey} consumer stopped (${payload.error.message}); ${payload.restart ? "restarting" : "not restarting"}`),
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
    // The start command waits for this line.
    say.notice(`Kafka event source ready (${this.consumers.length} consumers on ${brokers.join(",")})`);
  }

  private async deliverBatch(mapping: Mapping, brokers: string[], consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    await deliverPartition(batch.messages, {
      topic: batch.topic,
      partition: batch.partition,
      batchSize: mapping.batchSize,
      handling: mapping.handling,
      invoke: (records) => this.invoke(mapping.functionName, lambdaEventFor(mapping.source, brokers, batch.topic, batch.partition, records)),
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

  /** Writes failed records to the mapping's on-failure topic, intact, with why they failed (dead-letter.ts). */
  private async deadLetter(
    mapping: Mapping,
    topic: string,
    partition: number,
    records: KafkaMessage[],
    failure: Omit<Failure, "functionName">,
  ): Promise<void> {
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
      const headers: Record<string, Buffer[]> = {};
      for (const { name, value } of letter.headers) (headers[name] ??= []).push(value);
      return { key: letter.key, value: letter.value, headers };
    });
    await this.producer!.send({ topic: mapping.handling.onFailureTopic!, acks: -1, messages });
  }

  /**
   * kafkajs's own messages, as one readable line each. A group being formed or rebalanced makes it
   * report errors it then retries by itself; those stay out of sight unless nothing else works.
   */
  private kafkaLog({ level, namespace, log }: LogEntry): void {
    const { message, error } = log as { message: string; error?: string };
    if (/coordinator (is )?(not available|is loading|is not aware)|rebalanc/i.test(`${message} ${error ?? ""}`)) return;
    const line = `Kafka event source: ${namespace}: ${message}${error ? ` (${error})` : ""}`;
    if (level <= logLevel.ERROR) say.error(line);
    else say.warning(line);
  }

  /** Topics are never auto-created; the start command creates them before serverless-offline starts. */
  private async waitForTopics(kafka: Kafka, topics: string[]): Promise<void> {
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

  /** Kept-alive connections to serverless-offline's Lambda endpoint: an invoke is no new connection. */
  private readonly agent = new http.Agent({ keepAlive: true });

  /**
   * Invokes the function synchronously (Lambda's Invoke API, which serverless-offline serves) and
   * answers its error type (if any) and its payload. Plain HTTP rather than the AWS SDK: nothing
   * here needs signing, and the SDK's per-call work was a good part of this process's CPU. A
   * refusal (not found, bad request) or a transport failure throws, and counts as a failed attempt.
   */
  private async invoke(functionName: string, event: object): Promise<{ functionError?: string; payload: string }> {
    const answer = await post(`${this.setup.lambdaEndpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, JSON.stringify(event), {
      agent: this.agent,
      // Longer than any function's timeout (serverless-offline ends an invocation then): an invoke
      // that still has no answer is a serverless-offline that hangs, and the batch is tried again.
      timeoutMs: 90_000,
      headers: { "x-amz-invocation-type": "RequestResponse" },
    });
    if (answer.status < 200 || answer.status >= 300) throw new Error(`the Lambda endpoint answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    const functionError = answer.headers["x-amz-function-error"];
    return typeof functionError === "string" ? { functionError, payload: answer.body } : { payload: answer.body };
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    const consumers = this.consumers.splice(0);
    await Promise.all([...consumers.map((c) => c.disconnect().catch(() => undefined)), this.producer?.disconnect().catch(() => undefined)]);
    if (consumers.length) say.notice("Kafka event source stopped");
  }
}

const source = new KafkaEventSource(JSON.parse(process.env.KAFKA_EVENT_SOURCE ?? "{}") as Setup);
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
// Whatever escapes ends this process; serverless-offline (index.cjs) starts another.
process.on("unhandledRejection", (error) => {
  say.error(`Kafka event source: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
await source.start();
