import { GetBootstrapBrokersCommand, KafkaClient } from "@aws-sdk/client-kafka";
import { Admin, Producer, compatibilityPartitioner, type Base, type BaseOptions } from "@platformatic/kafka";
import { awsClientOptions } from "../aws-clients.ts";
import { config, type Config } from "../config.ts";
import { logger } from "../logger.ts";
import { withTimeout } from "../timeout.ts";

/** Which of MSK's bootstrap broker lists fits each way of authenticating (their ports differ). */
const BROKER_LIST_OF = {
  iam: "BootstrapBrokerStringSaslIam",
  tls: "BootstrapBrokerStringTls",
  none: "BootstrapBrokerString",
} as const;

/**
 * Where the brokers are: KAFKA_BROKERS when given (local runs, self-managed Kafka), otherwise
 * asked of the MSK control plane for the cluster in MSK_CLUSTER_ARN: the list for KAFKA_AUTH.
 */
export async function discoverBrokers(
  cfg = config(),
  msk: Pick<KafkaClient, "send"> = new KafkaClient(awsClientOptions(cfg)),
): Promise<string[]> {
  if (cfg.kafkaBrokers.length > 0) return cfg.kafkaBrokers;
  if (!cfg.mskClusterArn) throw new Error("Set KAFKA_BROKERS or MSK_CLUSTER_ARN");
  const answer = await msk.send(new GetBootstrapBrokersCommand({ ClusterArn: cfg.mskClusterArn }));
  const list = answer[BROKER_LIST_OF[cfg.kafkaAuth]];
  if (!list)
    throw new Error(
      `MSK cluster ${cfg.mskClusterArn} reported no ${BROKER_LIST_OF[cfg.kafkaAuth]} (KAFKA_AUTH=${cfg.kafkaAuth}: is that access enabled on the cluster?)`,
    );
  return list.split(",");
}

/**
 * How a client authenticates, by KAFKA_AUTH. With `iam`, each connection signs a short-lived token
 * with the function's own credentials (aws-msk-iam-sasl-signer-js); what the role may do on the
 * cluster, its topics and groups is then MSK's IAM access control. The signer is loaded only then.
 */
export function kafkaSecurity(
  cfg: Pick<Config, "kafkaAuth" | "awsRegion"> = config(),
): Pick<BaseOptions, "tls" | "sasl"> {
  switch (cfg.kafkaAuth) {
    case "none":
      return {};
    case "tls":
      return { tls: {} };
    case "iam":
      return {
        tls: {},
        sasl: {
          mechanism: "OAUTHBEARER",
          token: async () => {
            const { generateAuthToken } = await import("aws-msk-iam-sasl-signer-js");
            const { token } = await generateAuthToken({ region: cfg.awsRegion });
            return token;
          },
        },
      };
  }
}

/**
 * What every client of the container is given: short waits, so a broker that is away fails a call
 * in seconds, and a line in the log for each broker connection that fails.
 */
export function kafkaOptions(brokers: string[], clientId: string): BaseOptions {
  return {
    clientId,
    bootstrapBrokers: brokers,
    ...kafkaSecurity(),
    connectTimeout: 1_000,
    requestTimeout: 5_000,
    timeout: 5_000,
    retries: 3,
    retryDelay: (_client, _operation, attempt) => Math.min(100 * 2 ** attempt, 1_000),
  };
}

/** Broker connections that fail, as one structured line each (the client itself only throws). */
function logBrokerFailures<T extends Base<BaseOptions>>(client: T): T {
  client.on("client:broker:failed", ({ broker }) =>
    logger.warn({ kafka: client.clientId, broker: `${broker.host}:${broker.port}` }, "Kafka broker connection failed"),
  );
  return client;
}

/**
 * A client kept for the container's life (a producer, an admin), made and connected on first use.
 * A failed or timed-out connect leaves nothing behind, and `reset` drops one that went bad, so the
 * next call starts afresh.
 */
function connectedOnce<T extends Base<BaseOptions>>(
  what: string,
  make: (brokers: string[]) => T,
  connect: (client: T) => Promise<unknown>,
) {
  let current: Promise<T> | undefined;
  const reset = (): void => {
    const dropped = current;
    current = undefined;
    void dropped?.then((c) => c.close()).catch(() => undefined);
  };
  const get = (): Promise<T> => {
    current ??= (async () => {
      const client = logBrokerFailures(
        make(await withTimeout(discoverBrokers(), config().awsRequestTimeoutMs * 2, "broker discovery")),
      );
      try {
        await withTimeout(connect(client), config().kafkaSendTimeoutMs, `${what} connect`);
      } catch (error) {
        void client.close().catch(() => undefined);
        throw error;
      }
      return client;
    })();
    const attempt = current;
    // Forget only this attempt: a reset() meanwhile may already have put a newer one in its place.
    attempt.catch(() => {
      if (current === attempt) current = undefined;
    });
    return attempt;
  };
  return { get, reset };
}

/**
 * An idempotent producer (acks=all, one request in flight, so order holds within a partition).
 * Retries are few, because the relay, not the producer, waits out an outage. Keys go to partitions
 * as kafkajs and the Java client put them (murmur2, sign bit masked), so a user's events stay on
 * the partition they were on before the client changed.
 */
export function idempotentProducer(brokers: string[], clientId: string): Producer {
  return new Producer({
    ...kafkaOptions(brokers, clientId),
    idempotent: true,
    autocreateTopics: false,
    partitioner: compatibilityPartitioner,
  });
}

/** The container's producer, for the outbox relay. */
export const sharedProducer = connectedOnce<Producer>(
  "producer",
  (brokers) => idempotentProducer(brokers, "outbox-relay"),
  (producer) => producer.initIdempotentProducer({}),
);

/** One admin connection per container, for health checks: a check opens no connection of its own. */
export const sharedAdmin = connectedOnce<Admin>(
  "admin",
  (brokers) => new Admin(kafkaOptions(brokers, "health")),
  (admin) => admin.connectToBrokers(),
);
