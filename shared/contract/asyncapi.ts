import { deadLetterTopic, TOPICS, type Topic } from "./events.ts";
import { BINDING_VERSION, pascal, ref, schemaOf } from "./asyncapi-parts.ts";
import { websocketPart } from "./asyncapi-websocket.ts";
import { consumersOf, writersOf } from "./topology.ts";

/**
 * The AsyncAPI 3 (3.1.0) document of everything the shop says asynchronously: the Kafka topics (each with
 * its dead-letter topic) and the WebSocket API's frames. Generated from the zod schemas the code
 * validates and emits with, as the OpenAPI document is (shared/http/openapi.ts); served by the start
 * command at /asyncapi.json and checked with @asyncapi/parser (test/unit/asyncapi.test.ts).
 */

export interface TopicRoles {
  event: string;
  producer: string;
  consumers: Array<{ function: string; group: string; service: string }>;
}

/** Who writes and who reads each topic, in words, from the manifest (manifest.ts) and the event schemas. */
export const TOPIC_ROLES = Object.fromEntries(
  (Object.keys(TOPICS) as Topic[]).map((topic): [Topic, TopicRoles] => [
    topic,
    {
      event: TOPICS[topic].schema.shape.event_type.value,
      producer: `${writersOf(topic).join(", ")} (written to the outbox in its transaction, published by its database's outbox relay)`,
      consumers: consumersOf(topic).map((c) => ({ function: c.function, group: c.group, service: c.does })),
    },
  ]),
) as Record<Topic, TopicRoles>;

/**
 * The headers a dead letter carries besides the record's own (shared/messaging/dead-letter.ts
 * writes them; test/unit/asyncapi.test.ts checks the two agree).
 */
export const DEAD_LETTER_HEADERS: Record<string, string> = {
  "dlt-source-topic": "The topic the record was read from",
  "dlt-source-partition": "Its partition (decimal)",
  "dlt-source-offset": "Its offset (decimal)",
  "dlt-source-timestamp": "Its timestamp, milliseconds since the epoch (decimal)",
  "dlt-reason":
    "unreadable (not UTF-8, not JSON, or not the topic's schema: parked at once), retries-exhausted, or record-too-old",
  "dlt-error": "The error, at most 2000 characters",
  "dlt-attempts": "How many times the function was given the record (decimal)",
  "dlt-function": "The consuming function's name",
  "dlt-failed-at": "When it was parked (ISO 8601)",
};
const DEAD_LETTER_REASONS = ["unreadable", "retries-exhausted", "record-too-old"];

export interface AsyncApiOptions {
  /** The local broker; on AWS the MSK cluster's brokers (KAFKA_BROKERS or GetBootstrapBrokers). */
  kafkaBrokers?: string;
  /** The local WebSocket API, e.g. ws://127.0.0.1:3001. */
  wsUrl?: string;
}

export function asyncApiDocument(options: AsyncApiOptions = {}) {
  const wsLocal = new URL(options.wsUrl ?? "ws://127.0.0.1:3001");
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const kafkaServers = [ref("#/servers/localKafka"), ref("#/servers/msk")];

  for (const [topic, { schema, key }] of Object.entries(TOPICS) as Array<[Topic, (typeof TOPICS)[Topic]]>) {
    const roles = TOPIC_ROLES[topic];
    const id = pascal(topic);
    const dlt = deadLetterTopic(topic);
    const dltId = `${id}Dlt`;
    const consumerNames = roles.consumers.map((c) => c.function).join(", ");
    schemas[roles.event] = schemaOf(schema, schemas);
    messages[roles.event] = {
      name: roles.event,
      title: `${roles.event} v1`,
      summary: `Written by ${roles.producer}.`,
      contentType: "application/json",
      payload: ref(`#/components/schemas/${roles.event}`),
      correlationId: {
        description: "The order id (for a deposit, an id of its own): the thread through every log line and event",
        location: "$message.payload#/correlation_id",
      },
      bindings: {
        kafka: {
          key: {
            type: "string",
            format: "uuid",
            description: `The event's ${key}: one user's events share a partition and keep their order`,
          },
          bindingVersion: BINDING_VERSION.kafka,
        },
      },
    };
    messages[`${roles.event}DeadLetter`] = {
      name: `${roles.event}DeadLetter`,
      title: `A ${topic} record that could not be handled`,
      summary: `The failed ${topic} record itself, byte for byte: its key, value and headers untouched, plus dlt-* headers saying why and where.`,
      description:
        `Dead-lettered by ${consumerNames} at once when it cannot read the record (through its database's outbox), or by the event source mapping once its retries are spent. ` +
        "`npm run dead-letters -- list` shows them; `redrive` sends key, value and original headers back to dlt-source-topic, where the consumer's inbox keeps a redriven record from being handled twice.",
      contentType: "application/octet-stream",
      headers: {
        type: "object",
        required: Object.keys(DEAD_LETTER_HEADERS),
        properties: Object.fromEntries(
          Object.entries(DEAD_LETTER_HEADERS).map(([name, description]) => [
            name,
            name === "dlt-reason"
              ? { type: "string", enum: DEAD_LETTER_REASONS, description }
              : { type: "string", description },
          ]),
        ),
        additionalProperties: { type: "string", description: "The original record's headers" },
      },
      payload: {
        description: `The original value's bytes: normally a ${roles.event} event, but an unreadable record is kept as it came (not UTF-8, not JSON, or not the schema)`,
      },
      bindings: {
        kafka: {
          key: { type: "string", description: "The original record's key, untouched" },
          bindingVersion: BINDING_VERSION.kafka,
        },
      },
    };
    channels[id] = {
      address: topic,
      title: topic,
      description: `${roles.event} events. Producer: ${roles.producer}. Consumers: ${roles.consumers.map((c) => c.service).join("; ")}.`,
      servers: kafkaServers,
      messages: { [roles.event]: ref(`#/components/messages/${roles.event}`) },
      bindings: { kafka: { topic, bindingVersion: BINDING_VERSION.kafka } },
    };
    channels[dltId] = {
      address: dlt,
      title: dlt,
      description: `Dead letters of ${topic}.`,
      servers: kafkaServers,
      messages: { [`${roles.event}DeadLetter`]: ref(`#/components/messages/${roles.event}DeadLetter`) },
      bindings: { kafka: { topic: dlt, bindingVersion: BINDING_VERSION.kafka } },
    };
    operations[`publish${roles.event}`] = {
      action: "send",
      channel: ref(`#/channels/${id}`),
      title: `Publish ${roles.event}`,
      summary: `${roles.producer}: written to the outbox in the transaction that makes the change, published after the commit (idempotent producer, acks=all).`,
      messages: [ref(`#/channels/${id}/messages/${roles.event}`)],
    };
    for (const consumer of roles.consumers) {
      operations[`${consumer.function}Consumes${roles.event}`] = {
        action: "receive",
        channel: ref(`#/channels/${id}`),
        title: `${consumer.function} receives ${roles.event}`,
        summary: `${consumer.service}. One transaction per batch, behind an inbox row per event.`,
        messages: [ref(`#/channels/${id}/messages/${roles.event}`)],
        bindings: {
          kafka: { groupId: { type: "string", enum: [consumer.group] }, bindingVersion: BINDING_VERSION.kafka },
        },
      };
    }
    operations[`deadLetter${roles.event}`] = {
      action: "send",
      channel: ref(`#/channels/${dltId}`),
      title: `Park a ${topic} record`,
      summary: `${consumerNames} (unreadable records) and the event source mapping (retries exhausted; on-failure destination kafka://${dlt}).`,
      messages: [ref(`#/channels/${dltId}/messages/${roles.event}DeadLetter`)],
    };
  }

  websocketPart(channels, operations, messages, schemas);

  return {
    asyncapi: "3.1.0",
    info: {
      title: "Gozon Async Shop events",
      version: "1.0.0",
      description:
        "The Kafka topics between orders and payments (events are versioned JSON keyed by user id; every topic has a dead-letter topic <topic>.dlt) and the WebSocket frames pushed to the shopper's page. Generated from the zod schemas in shared/contract/.",
    },
    defaultContentType: "application/json",
    servers: {
      localKafka: {
        host: options.kafkaBrokers ?? "127.0.0.1:9092",
        protocol: "kafka",
        description: "The broker of `npm start` (plaintext, KAFKA_AUTH=none); 3 partitions per topic.",
      },
      msk: {
        host: "{brokers}",
        protocol: "kafka-secure",
        description:
          'Amazon MSK of an AWS stage: TLS, with IAM access control (SASL/OAUTHBEARER, port 9098) by default; see the README\'s "Deploying to AWS".',
        variables: {
          brokers: {
            description: "The cluster's bootstrap brokers (GetBootstrapBrokers, or the stage's kafkaBrokers)",
          },
        },
      },
      localWebSocket: {
        host: wsLocal.host,
        protocol: wsLocal.protocol.replace(":", ""),
        description: "serverless-offline's WebSocket API (`npm start`).",
      },
      awsWebSocket: {
        host: "{apiId}.execute-api.{region}.amazonaws.com",
        pathname: "/{stage}",
        protocol: "wss",
        description: "API Gateway's WebSocket API of an AWS stage.",
        variables: {
          apiId: { description: "The WebSocket API's id" },
          region: { description: "The stage's region", default: "us-east-1" },
          stage: { description: "The stage", default: "prod" },
        },
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}
