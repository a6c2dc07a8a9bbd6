import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { Kafka, logLevel, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry } from "kafkajs";
import { lambdaEventFor } from "./lambda-event.ts";

/**
 * A local stand-in for Lambda's Kafka event source mapping, started with `sls offline start`
 * (serverless-offline ignores msk and kafka events). For every such event it runs a kafkajs
 * consumer group and, per partition and in offset order:
 * - builds the event Lambda would send and invokes the function through serverless-offline's
 *   Lambda endpoint, synchronously;
 * - commits the batch's offsets only after the function succeeded;
 * - on failure retries the same batch with backoff, so nothing behind it on that partition
 *   is handed over first (Lambda's default: retry until success).
 */

interface KafkaishEvent {
  arn?: string;
  topic: string;
  batchSize?: number;
  startingPosition?: "LATEST" | "TRIM_HORIZON" | "AT_TIMESTAMP";
  consumerGroupId?: string;
  enabled?: boolean;
}

interface FunctionDefinition {
  name: string;
  events?: Array<{ msk?: KafkaishEvent; kafka?: KafkaishEvent }>;
}

interface Serverless {
  service: {
    service: string;
    custom?: { kafkaEventSource?: { brokers?: string; retryBackoffMs?: number }; "serverless-offline"?: { lambdaPort?: number | string; host?: string } };
    getAllFunctions(): string[];
    getFunction(key: string): FunctionDefinition;
  };
}

interface Logging {
  log: { notice(message: string): void; info(message: string): void; warning(message: string): void; error(message: string): void };
}

interface Mapping {
  functionKey: string;
  functionName: string;
  source: { kind: "msk"; arn: string } | { kind: "kafka" };
  topic: string;
  batchSize: number;
  fromBeginning: boolean;
  groupId: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default class KafkaEventSourcePlugin {
  readonly hooks: Record<string, () => Promise<void>>;
  private readonly consumers: Consumer[] = [];
  private started = false;

  constructor(
    private readonly serverless: Serverless,
    private readonly options: Record<string, unknown>,
    private readonly logging: Logging,
  ) {
    this.hooks = {
      // serverless-offline's own init hook runs first (it is listed first), so its Lambda endpoint is up.
      "offline:start:init": () => this.start(),
      "before:offline:start:end": () => this.stop(),
    };
  }

  private mappings(): Mapping[] {
    const service = this.serverless.service;
    return service.getAllFunctions().flatMap((functionKey) => {
      const fn = service.getFunction(functionKey);
      return (fn.events ?? []).flatMap((event): Mapping[] => {
        const spec = event.msk ?? event.kafka;
        if (!spec || spec.enabled === false) return [];
        return [{
          functionKey,
          functionName: fn.name,
          source: event.msk ? { kind: "msk", arn: String(event.msk.arn) } : { kind: "kafka" },
          topic: spec.topic,
          batchSize: spec.batchSize ?? 100,
          fromBeginning: spec.startingPosition !== "LATEST",
          groupId: spec.consumerGroupId ?? `${service.service}-${functionKey}`,
        }];
      });
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const custom = this.serverless.service.custom ?? {};
    const brokers = String(custom.kafkaEventSource?.brokers || "127.0.0.1:9092").split(",");
    const offline = custom["serverless-offline"] ?? {};
    const lambdaPort = Number(this.options.lambdaPort ?? offline.lambdaPort ?? 3002);
    const host = String(this.options.host ?? offline.host ?? "127.0.0.1");
    const lambda = new LambdaClient({
      endpoint: `http://${host}:${lambdaPort}`,
      region: process.env.AWS_REGION ?? "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      maxAttempts: 1,
    });
    const kafka = new Kafka({ clientId: "kafka-event-source", brokers, logLevel: logLevel.WARN, logCreator: () => (entry) => this.kafkaLog(entry) });
    const backoffMs = Number(custom.kafkaEventSource?.retryBackoffMs ?? 200);
    const mappings = this.mappings();
    await this.waitForTopics(brokers, [...new Set(mappings.map((m) => m.topic))]);

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
        await consumer.connect();
        await consumer.subscribe({ topic: mapping.topic, fromBeginning: mapping.fromBeginning });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 4,
          eachBatch: (payload) => this.deliverBatch(mapping, brokers, lambda, consumer, payload, backoffMs),
        });
        this.logging.log.notice(`Kafka event source: ${mapping.topic} -> ${mapping.functionKey} (group ${mapping.groupId})`);
      }),
    );
    // Printed whatever serverless's log level: the start command waits for this line.
    process.stdout.write(`Kafka event source ready (${this.consumers.length} consumers on ${brokers.join(",")})\n`);
  }

  private async deliverBatch(
    mapping: Mapping,
    brokers: string[],
    lambda: LambdaClient,
    consumer: Consumer,
    { batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload,
    backoffMs: number,
  ): Promise<void> {
    for (let start = 0; start < batch.messages.length; start += mapping.batchSize) {
      const chunk: KafkaMessage[] = batch.messages.slice(start, start + mapping.batchSize);
      const event = lambdaEventFor(mapping.source, brokers, batch.topic, batch.partition, chunk);
      for (let attempt = 1; ; attempt += 1) {
        if (!isRunning() || isStale()) return; // uncommitted: the partition's next owner starts here again
        const failure = await this.invoke(lambda, mapping.functionName, event);
        if (failure === undefined) break;
        this.logging.log.warning(
          `Kafka event source: ${mapping.functionKey} failed on ${batch.topic}-${batch.partition} ` +
            `offsets ${chunk[0]!.offset}..${chunk.at(-1)!.offset} (attempt ${attempt}): ${failure}`,
        );
        await sleep(Math.min(backoffMs * 2 ** (attempt - 1), 5_000));
        await heartbeat();
      }
      const last = chunk.at(-1)!.offset;
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      await heartbeat();
    }
  }

  /**
   * kafkajs's own messages, as one readable line each. A group being formed or rebalanced makes it
   * report errors it then retries by itself; those stay out of sight unless nothing else works.
   */
  private kafkaLog({ level, namespace, log }: LogEntry): void {
    const { message, error } = log as { message: string; error?: string };
    if (/coordinator (is )?(not available|is loading|is not aware)|rebalanc/i.test(`${message} ${error ?? ""}`)) return;
    const line = `Kafka event source: ${namespace}: ${message}${error ? ` (${error})` : ""}`;
    if (level <= logLevel.ERROR) this.logging.log.error(line);
    else this.logging.log.warning(line);
  }

  /** The broker may still be starting (the start command brings both up at once), and topics are never auto-created. */
  private async waitForTopics(brokers: string[], topics: string[], timeoutMs = 180_000): Promise<void> {
    const kafka = new Kafka({ clientId: "kafka-event-source-setup", brokers, logLevel: logLevel.NOTHING, connectionTimeout: 1_000, retry: { retries: 0 } });
    const deadline = Date.now() + timeoutMs;
    let said = false;
    for (;;) {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const existing = new Set(await admin.listTopics());
        if (topics.every((t) => existing.has(t))) return;
      } catch {
        // not up yet
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`Kafka event source: topics ${topics.join(", ")} did not appear within ${timeoutMs / 1000} s`);
      if (!said) this.logging.log.notice(`Kafka event source: waiting for topics ${topics.join(", ")}`);
      said = true;
      await sleep(250);
    }
  }

  /** Invokes the function and answers undefined on success, or why it failed. */
  private async invoke(lambda: LambdaClient, functionName: string, event: object): Promise<string | undefined> {
    try {
      const answer = await lambda.send(
        new InvokeCommand({ FunctionName: functionName, InvocationType: "RequestResponse", Payload: Buffer.from(JSON.stringify(event)) }),
      );
      if (!answer.FunctionError) return undefined;
      return `${answer.FunctionError}: ${Buffer.from(answer.Payload ?? new Uint8Array()).toString("utf8").slice(0, 500)}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  async stop(): Promise<void> {
    const consumers = this.consumers.splice(0);
    await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
    if (consumers.length) this.logging.log.notice("Kafka event source stopped");
  }
}
