import { z } from "zod";
import { deadLetterTopic, TOPICS, type Topic } from "./events.ts";
import { balanceUpdatedFrame, orderUpdatedFrame, problemFrame, snapshotFrame } from "./frames.ts";
import { userQuery } from "./http.ts";
import { TOPOLOGY } from "./topology.ts";

/**
 * The AsyncAPI 3 (3.1.0) document of everything the shop says asynchronously: the Kafka topics (each with
 * its dead-letter topic) and the WebSocket API's frames. Generated from the zod schemas the code
 * validates and emits with, as the OpenAPI document is (shared/http/openapi.ts); served by the start
 * command at /asyncapi.json and checked with @asyncapi/parser (test/unit/asyncapi.test.ts).
 */

/** Who writes and who reads each topic, in words, from the wiring (topology.ts) and the event schemas. */
export const TOPIC_ROLES = Object.fromEntries(
  (Object.keys(TOPICS) as Topic[]).map((topic) => {
    const { writtenBy, consumer } = TOPOLOGY[topic];
    return [
      topic,
      {
        event: TOPICS[topic].schema.shape.event_type.value,
        producer: `${writtenBy.join(", ")} (written to the outbox in its transaction, published by its database's outbox relay)`,
        consumer: { function: consumer.function, group: consumer.group, service: consumer.does },
      },
    ];
  }),
) as Record<Topic, { event: string; producer: string; consumer: { function: string; group: string; service: string } }>;

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

/** What a page sends on its socket: API Gateway routes it by `action` (serverless.yml: the `sync` route). */
export const syncRequest = z.object({ action: z.literal("sync") });

const BINDING_VERSION = { kafka: "0.5.0", ws: "0.1.0" } as const;

/**
 * A zod schema as JSON Schema (draft 7, which AsyncAPI's schema format extends). Schemas that name
 * themselves (`.meta({ id })`, e.g. Order) become components of their own, referenced from each use.
 */
function schemaOf(
  schema: z.ZodType,
  shared: Record<string, unknown>,
  io: "input" | "output" = "output",
): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    target: "draft-7",
    io,
    unrepresentable: "any",
    reused: "inline",
  }) as Record<string, unknown>;
  const {
    $schema: _schema,
    definitions,
    ...json
  } = JSON.parse(JSON.stringify(generated).replaceAll('"#/definitions/', '"#/components/schemas/')) as Record<
    string,
    unknown
  >;
  Object.assign(shared, definitions ?? {});
  return json;
}

const pascal = (topic: string) =>
  topic
    .split(/[^a-zA-Z0-9]+/)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
const ref = (pointer: string) => ({ $ref: pointer });

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
        `Dead-lettered by ${roles.consumer.function} at once when it cannot read the record (through its database's outbox), or by the event source mapping once its retries are spent. ` +
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
      description: `${roles.event} events. Producer: ${roles.producer}. Consumer: ${roles.consumer.service}.`,
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
    operations[`consume${roles.event}`] = {
      action: "receive",
      channel: ref(`#/channels/${id}`),
      title: `${roles.consumer.function} receives ${roles.event}`,
      summary: `${roles.consumer.service}. One transaction per batch, behind an inbox row per event.`,
      messages: [ref(`#/channels/${id}/messages/${roles.event}`)],
      bindings: {
        kafka: { groupId: { type: "string", enum: [roles.consumer.group] }, bindingVersion: BINDING_VERSION.kafka },
      },
    };
    operations[`deadLetter${roles.event}`] = {
      action: "send",
      channel: ref(`#/channels/${dltId}`),
      title: `Park a ${topic} record`,
      summary: `${roles.consumer.function} (unreadable records) and its event source mapping (retries exhausted; on-failure destination kafka://${dlt}).`,
      messages: [ref(`#/channels/${dltId}/messages/${roles.event}DeadLetter`)],
    };
  }

  const frames = {
    OrderUpdated: orderUpdatedFrame,
    BalanceUpdated: balanceUpdatedFrame,
    Snapshot: snapshotFrame,
    Problem: problemFrame,
  } as const;
  const frameSummaries: Record<keyof typeof frames, string> = {
    OrderUpdated: "An order of the user reached FINISHED or CANCELLED (after payments answered).",
    BalanceUpdated: "The user's balance changed (account opened, deposit, charge).",
    Snapshot: 'Everything the page shows, in answer to {"action":"sync"}.',
    Problem: "A frame the server refused (too large, syncs too fast, not a known action), as problem details.",
  };
  for (const [name, schema] of Object.entries(frames) as Array<[keyof typeof frames, z.ZodType]>) {
    schemas[`${name}Frame`] = schemaOf(schema, schemas);
    messages[`${name}Frame`] = {
      name: `${name}Frame`,
      title: `${name} frame`,
      summary: frameSummaries[name],
      contentType: "application/json",
      payload: ref(`#/components/schemas/${name}Frame`),
    };
  }
  schemas.SyncRequest = schemaOf(syncRequest, schemas, "input");
  messages.SyncRequest = {
    name: "SyncRequest",
    title: "Sync request",
    summary: "Sent by a page that (re)connected: the server answers with a SNAPSHOT frame on the same connection.",
    contentType: "application/json",
    payload: ref("#/components/schemas/SyncRequest"),
  };
  channels.notifications = {
    address: "/",
    title: "WebSocket notifications",
    description:
      "One connection per open page, opened with ?token=<Cognito access token> (with AUTH=off: ?user_id=<uuid>). Every open page of a user gets the frames about that user, pushed after the change committed. A frame can be missed (a page reconnecting); sync answers with the whole picture.",
    servers: [ref("#/servers/localWebSocket"), ref("#/servers/awsWebSocket")],
    messages: {
      OrderUpdatedFrame: ref("#/components/messages/OrderUpdatedFrame"),
      BalanceUpdatedFrame: ref("#/components/messages/BalanceUpdatedFrame"),
      SnapshotFrame: ref("#/components/messages/SnapshotFrame"),
      ProblemFrame: ref("#/components/messages/ProblemFrame"),
      SyncRequest: ref("#/components/messages/SyncRequest"),
    },
    bindings: { ws: { query: schemaOf(userQuery, schemas, "input"), bindingVersion: BINDING_VERSION.ws } },
  };
  const pushed = (title: string, summary: string, message: string) => ({
    action: "send",
    channel: ref("#/channels/notifications"),
    title,
    summary,
    messages: [ref(`#/channels/notifications/messages/${message}`)],
  });
  operations.pushOrderUpdated = pushed(
    "Push ORDER_UPDATED",
    "onPaymentProcessed, after it settled the order: one frame per order, which carries the balance the payment left (balance, balance_version) when money was taken.",
    "OrderUpdatedFrame",
  );
  operations.pushBalanceUpdated = pushed(
    "Push BALANCE_UPDATED",
    "onBalanceUpdated, after it recorded a newer balance from an account opening or a deposit (a charge's balance rides on ORDER_UPDATED).",
    "BalanceUpdatedFrame",
  );
  operations.refuseFrame = pushed(
    "Refuse a frame",
    "wsSync and the $default route, when a frame is too large, comes too fast or names no known action.",
    "ProblemFrame",
  );
  operations.sync = {
    action: "receive",
    channel: ref("#/channels/notifications"),
    title: "Sync",
    summary: "wsSync: the page asks for the whole picture; the answer goes to the same connection.",
    messages: [ref("#/channels/notifications/messages/SyncRequest")],
    reply: {
      channel: ref("#/channels/notifications"),
      messages: [ref("#/channels/notifications/messages/SnapshotFrame")],
    },
  };

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
