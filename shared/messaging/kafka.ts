import { GetBootstrapBrokersCommand, KafkaClient } from "@aws-sdk/client-kafka";
import { Kafka, logLevel, type Producer } from "kafkajs";
import { config } from "../config.ts";
import { logger } from "../logger.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

/**
 * Where the brokers are: KAFKA_BROKERS when given (local runs, self-managed Kafka), otherwise
 * asked of the MSK control plane for the cluster in MSK_CLUSTER_ARN.
 */
export async function discoverBrokers(
  cfg = config(),
  msk: Pick<KafkaClient, "send"> = new KafkaClient({ region: cfg.awsRegion }),
): Promise<string[]> {
  if (cfg.kafkaBrokers.length > 0) return cfg.kafkaBrokers;
  if (!cfg.mskClusterArn) throw new Error("Set KAFKA_BROKERS or MSK_CLUSTER_ARN");
  const answer = await msk.send(new GetBootstrapBrokersCommand({ ClusterArn: cfg.mskClusterArn }));
  const list = answer.BootstrapBrokerStringSaslIam ?? answer.BootstrapBrokerStringTls ?? answer.BootstrapBrokerString;
  if (!list) throw new Error(`MSK cluster ${cfg.mskClusterArn} reported no bootstrap brokers`);
  return list.split(",");
}

const kafkaLogger = () => ({ namespace, level, log }: { namespace: string; level: logLevel; log: { message: string } & Record<string, unknown> }) => {
  const { message, ...rest } = log;
  const fields = { kafka: namespace, ...rest };
  if (level <= logLevel.ERROR) logger.error(fields, message);
  else if (level === logLevel.WARN) logger.warn(fields, message);
};

export function kafkaClient(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: kafkaLogger,
    connectionTimeout: 3_000,
    retry: { initialRetryTime: 100, retries: 8 },
  });
}

let producer: Promise<Producer> | undefined;

/**
 * The container's idempotent producer, connected once and reused while the container is warm.
 * kafkajs cannot keep order with more than one request in flight on an idempotent producer.
 */
export function sharedProducer(): Promise<Producer> {
  producer ??= (async () => {
    const p = kafkaClient(await discoverBrokers(), "outbox-relay").producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Idempotence holds only if a send is retried until it lands; while the broker is away the
      // relay keeps its lock and the others step aside (a Lambda timeout ends it on AWS).
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: Number.MAX_SAFE_INTEGER },
    });
    await p.connect();
    return p;
  })().catch((error: unknown) => {
    producer = undefined;
    throw error;
  });
  return producer;
}

export async function disconnectSharedProducer(): Promise<void> {
  const current = producer;
  producer = undefined;
  if (current) await (await current).disconnect().catch(() => undefined);
}
