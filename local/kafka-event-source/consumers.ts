import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { Kafka, logLevel, type Consumer, type EachBatchPayload, type KafkaMessage, type LogEntry, type Producer } from "kafkajs";
import { deadLetterOf, type Failure } from "../../shared/messaging/dead-letter.ts";
import { waitUntil } from "../process.ts";
import { deliverPartition } from "./delivery.ts";
import { errorHandlingOf, type ErrorHandling, type MappingSettings } from "./error-handling.ts";
import { lambdaEventFor } from "./lambda-event.ts";

/**
 * Lambda's Kafka event source mapping, for `sls offline start` (serverless-offline ignores msk and
 * kafka events) and for `sls package`:
 * - offline, a kafkajs consumer group per event invokes the function through serverless-offline's
 *   Lambda endpoint, synchronously, with the event AWS would send, and commits offsets only after
 *   success; failures are handled as `custom.kafkaEventSource.mappings.<function>` says, with AWS's
 *   semantics (see delivery.ts);
 * - at package time, the same settings are merged into the generated EventSourceMapping (osls's
 *   msk schema has no place for them), so AWS and the local run behave alike.
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

interface CustomSettings {
  kafkaEventSource?: { brokers?: string; mappings?: Record<string, MappingSettings> };
  "serverless-offline"?: { lambdaPort?: number | string; host?: string };
}

interface Serverless {
  service: {
    service: string;
    custom?: CustomSettings;
    provider: { compiledCloudFormationTemplate: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> } };
    getAllFunctions(): string[];
    getFunction(key: string): FunctionDefinition;
  };
  getProvider(name: "aws"): { naming: { getLambdaLogicalId(functionKey: string): string } };
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
  settings: MappingSettings;
  handling: ErrorHandling;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export default class KafkaEventSourcePlugin {
  readonly hooks: Record<string, () => Promise<void>>;
  private readonly consumers: Consumer[] = [];
  private producer: Producer | undefined;
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
      "after:package:compileEvents": async () => this.mergeIntoTemplate(),
    };
  }

  private mappings(): Mapping[] {
    const service = this.serverless.service;
    const settings = service.custom?.kafkaEventSource?.mappings ?? {};
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
          settings: settings[functionKey] ?? {},
          handling: errorHandlingOf(settings[functionKey], spec.topic),
        }];
      });
    });
  }

  /** Puts each mapping's settings into its EventSourceMapping resource, under AWS's names. */
  private mergeIntoTemplate(): void {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const naming = this.serverless.getProvider("aws").naming;
    for (const mapping of this.mappings()) {
      const functionId = naming.getLambdaLogicalId(mapping.functionKey);
      const target = Object.values(resources).find(
        (r) =>
          r.Type === "AWS::Lambda::EventSourceMapping" &&
          JSON.stringify(r.Properties.FunctionName).includes(`"${functionId}"`) &&
          (r.Properties.Topics as string[] | undefined)?.includes(mapping.topic),
      );
      if (!target) throw new Error(`kafkaEventSource: no EventSourceMapping of ${mapping.functionKey} for ${mapping.topic}`);
      Object.assign(target.Properties, mapping.settings);
    }
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
    const kafka = new Kafka({
      clientId: "kafka-event-source",
      brokers,
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => this.kafkaLog(entry),
      connectionTimeout: 1_000,
      requestTimeout: 10_000,
    });
    const mappings = this.mappings();
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
          this.logging.log.warning(`Kafka event source: ${mapping.functionKey} consumer stopped (${payload.error.message}); ${payload.restart ? "restarting" : "not restarting"}`),
        );
        await consumer.connect();
        await consumer.subscribe({ topic: mapping.topic, fromBeginning: mapping.fromBeginning });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 4,
          eachBatch: (payload) => this.deliverBatch(mapping, brokers, lambda, consumer, payload),
        });
        this.logging.log.notice(`Kafka event source: ${mapping.topic} -> ${mapping.functionKey} (group ${mapping.groupId})`);
      }),
    );
    // Printed whatever serverless's log level: the start command waits for this line.
    process.stdout.write(`Kafka event source ready (${this.consumers.length} consumers on ${brokers.join(",")})\n`);
  }

  private async deliverBatch(mapping: Mapping, brokers: string[], lambda: LambdaClient, consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    await deliverPartition(batch.messages, {
      topic: batch.topic,
      partition: batch.partition,
      batchSize: mapping.batchSize,
      handling: mapping.handling,
      invoke: (records) => this.invoke(lambda, mapping.functionName, lambdaEventFor(mapping.source, brokers, batch.topic, batch.partition, records)),
      commit: async (next) => {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next }]);
        resolveOffset((BigInt(next) - 1n).toString());
      },
      deadLetter: (records, failure) => this.deadLetter(mapping, batch.topic, batch.partition, records, failure),
      heartbeat,
      stillOwned: () => isRunning() && !isStale(),
      warn: (line) => this.logging.log.warning(`Kafka event source: ${mapping.functionKey}: ${line}`),
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
      return { key: letter.key, value: letter.value, headers: Object.fromEntries(letter.headers.map((h) => [h.name, h.value])) };
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
    if (level <= logLevel.ERROR) this.logging.log.error(line);
    else this.logging.log.warning(line);
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

  /** Invokes the function synchronously and answers its error type (if any) and its payload. */
  private async invoke(lambda: LambdaClient, functionName: string, event: object): Promise<{ functionError?: string; payload: string }> {
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: "RequestResponse", Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const payload = Buffer.from(answer.Payload ?? new Uint8Array()).toString("utf8");
    return answer.FunctionError ? { functionError: answer.FunctionError, payload } : { payload };
  }

  async stop(): Promise<void> {
    const consumers = this.consumers.splice(0);
    await Promise.all([...consumers.map((c) => c.disconnect().catch(() => undefined)), this.producer?.disconnect().catch(() => undefined)]);
    if (consumers.length) this.logging.log.notice("Kafka event source stopped");
  }
}
