import { GetBootstrapBrokersCommand, KafkaClient } from "@aws-sdk/client-kafka";
import { Kafka, logLevel, type Admin, type KafkaConfig, type Producer } from "kafkajs";
import { awsClientOptions } from "../aws-clients.ts";
import { config, type Config } from "../config.ts";
import { logger } from "../logger.ts";
import { withTimeout } from "../timeout.ts";

process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";

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

const kafkaLogger =
  () =>
  ({
    namespace,
    level,
    log,
  }: {
    namespace: string;
    level: logLevel;
    log: { message: string } & Record<string, unknown>;
  }) => {
    const { message, ...rest } = log;
    const fields = { kafka: namespace, ...rest };
    if (level <= logLevel.ERROR) logger.error(fields, message);
    else if (level === logLevel.WARN) logger.warn(fields, message);
  };

/**
 * How a client authenticates, by KAFKA_AUTH. With `iam`, each connection signs a short-lived token
 * with the function's own credentials (aws-msk-iam-sasl-signer-js); what the role may do on the
 * cluster, its topics and groups is then MSK's IAM access control. The signer is loaded only then.
 */
export function kafkaSecurity(
  cfg: Pick<Config, "kafkaAuth" | "awsRegion"> = config(),
): Pick<KafkaConfig, "ssl" | "sasl"> {
  switch (cfg.kafkaAuth) {
    case "none":
      return {};
    case "tls":
      return { ssl: true };
    case "iam":
      return {
        ssl: true,
        sasl: {
          mechanism: "oauthbearer",
          oauthBearerProvider: async () => {
            const { generateAuthToken } = await import("aws-msk-iam-sasl-signer-js");
            const { token } = await generateAuthToken({ region: cfg.awsRegion });
            return { value: token };
          },
        },
      };
  }
}

/** A kafkajs client whose every wait is short: a broker that is away fails a call in seconds. */
export function kafkaClient(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    ...kafkaSecurity(),
    logLevel: logLevel.ERROR,
    logCreator: kafkaLogger,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
  });
}

/**
 * A connection kept for the container's life (a producer, an admin), made on first use. A failed
 * or timed-out connect leaves nothing behind, and `reset` drops one that went bad, so the next
 * call starts afresh.
 */
function connectedOnce<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(
  what: string,
  make: (brokers: string[]) => T,
) {
  let current: Promise<T> | undefined;
  const reset = (): void => {
    const dropped = current;
    current = undefined;
    void dropped?.then((c) => c.disconnect()).catch(() => undefined);
  };
  const get = (): Promise<T> => {
    current ??= (async () => {
      const client = make(await withTimeout(discoverBrokers(), config().awsRequestTimeoutMs * 2, "broker discovery"));
      try {
        await withTimeout(client.connect(), config().kafkaSendTimeoutMs, `${what} connect`);
      } catch (error) {
        void client.disconnect().catch(() => undefined);
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
 * The container's idempotent producer. kafkajs keeps order only with one request in flight on an
 * idempotent producer; retries are few, because the relay, not the producer, waits out an outage.
 */
export const sharedProducer = connectedOnce<Producer>("producer", (brokers) =>
  kafkaClient(brokers, "outbox-relay").producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
  }),
);

/** One admin connection per container, for health checks: a check opens no connection of its own. */
export const sharedAdmin = connectedOnce<Admin>("admin", (brokers) => kafkaClient(brokers, "health").admin());
