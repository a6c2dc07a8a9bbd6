import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Parser } from "@asyncapi/parser";
import { asyncApiDocument, DEAD_LETTER_HEADERS, TOPIC_ROLES } from "../../shared/contract/asyncapi.ts";
import { serverlessFunctions } from "../../deploy/functions.ts";
import { ALL_TOPICS, deadLetterTopic, TOPICS, type Topic } from "../../shared/contract/events.ts";
import { deadLetterOf } from "../../shared/messaging/dead-letter.ts";
import { startFrontend } from "../../local/frontend/server.ts";
import { freePort } from "../support/ports.ts";

interface Doc {
  asyncapi: string;
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<
    string,
    { action: string; channel: { $ref: string }; bindings?: { kafka?: { groupId?: { enum: string[] } } } }
  >;
  components: {
    schemas: Record<string, { required?: string[]; properties?: Record<string, { const?: unknown }> }>;
    messages: Record<string, { headers?: { required: string[]; properties: Record<string, unknown> } }>;
  };
}

const document = asyncApiDocument() as unknown as Doc;

describe("the AsyncAPI document", () => {
  it("is a valid AsyncAPI 3 document for @asyncapi/parser, without a single diagnostic", async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    assert.deepEqual(
      diagnostics.map((d) => `${d.severity} ${d.code}: ${d.message} at ${d.path.join(".")}`),
      [],
    );
    assert.ok(parsed);
    assert.match(parsed.version(), /^3\./);
    assert.deepEqual(
      parsed
        .channels()
        .all()
        .map((c) => c.address())
        .filter((a) => a !== "/")
        .sort(),
      [...ALL_TOPICS].sort(),
    );
    const ws = parsed
      .channels()
      .all()
      .find((c) => c.address() === "/")!;
    assert.deepEqual(
      ws
        .messages()
        .all()
        .map((m) => m.id())
        .sort(),
      ["BalanceUpdatedFrame", "OrderUpdatedFrame", "ProblemFrame", "SnapshotFrame", "SyncRequest"],
    );
  });

  it("describes each event with the schema the code validates, so the two cannot drift", () => {
    for (const [topic, { schema }] of Object.entries(TOPICS) as Array<[Topic, (typeof TOPICS)[Topic]]>) {
      const documented = document.components.schemas[TOPIC_ROLES[topic].event]!;
      const fields = Object.entries(
        schema.shape as Record<string, { safeParse(value: unknown): { success: boolean } }>,
      );
      assert.deepEqual(Object.keys(documented.properties!).sort(), fields.map(([name]) => name).sort(), topic);
      // A field the schema lets be absent is documented as optional, every other as required.
      const required = fields.filter(([, field]) => !field.safeParse(undefined).success).map(([name]) => name);
      assert.deepEqual([...documented.required!].sort(), required.sort(), topic);
      assert.equal(documented.properties!.event_type!.const, TOPIC_ROLES[topic].event);
      const channel = Object.values(document.channels).find((c) => c.address === topic)!;
      assert.deepEqual(Object.keys(channel.messages), [TOPIC_ROLES[topic].event]);
      assert.ok(
        Object.values(document.channels).some((c) => c.address === deadLetterTopic(topic)),
        `${topic} has its dead-letter channel`,
      );
    }
    for (const [name, type] of [
      ["OrderUpdatedFrame", "ORDER_UPDATED"],
      ["BalanceUpdatedFrame", "BALANCE_UPDATED"],
      ["SnapshotFrame", "SNAPSHOT"],
      ["ProblemFrame", "PROBLEM"],
    ] as const) {
      assert.equal(document.components.schemas[name]!.properties!.type!.const, type);
    }
    // A record the consumer accepts fits the documented schema's required fields.
    const sample = TOPICS["orders.created"].schema.parse({
      event_id: "7f0c1c9e-2a57-4b1e-9c4b-0c5a3b8c1d2e",
      event_version: 1,
      occurred_at: "2026-01-01T00:00:00Z",
      correlation_id: "0b7e6a52-3c1e-4e55-9d3e-8f1b2a7c9d10",
      event_type: "OrderCreated",
      order_id: "0b7e6a52-3c1e-4e55-9d3e-8f1b2a7c9d10",
      user_id: "550e8400-e29b-41d4-a716-446655440000",
      amount: 40,
      description: "Blue teapot",
    });
    assert.deepEqual(Object.keys(sample).sort(), [...document.components.schemas.OrderCreated!.required!].sort());
  });

  it("documents exactly the dlt-* headers a dead letter carries", () => {
    const letter = deadLetterOf(
      {
        topic: "orders.created",
        partition: 2,
        offset: 7,
        timestamp: 0,
        key: null,
        value: Buffer.from("x"),
        headers: [{ name: "trace", value: Buffer.from("t") }],
      },
      { reason: "unreadable", error: "not JSON", attempts: 1, functionName: "f" },
    );
    const written = letter.headers
      .map((h) => h.name)
      .filter((name) => name.startsWith("dlt-"))
      .sort();
    assert.deepEqual(Object.keys(DEAD_LETTER_HEADERS).sort(), written);
    for (const topic of Object.keys(TOPICS) as Topic[]) {
      const message = document.components.messages[`${TOPIC_ROLES[topic].event}DeadLetter`]!;
      assert.deepEqual([...message.headers!.required].sort(), written);
    }
  });

  it("names the consumer groups serverless.yml's msk events use", () => {
    // serverless.yml's functions, as deploy/functions.ts makes them from the manifest.
    const functions = serverlessFunctions({
      mskClusterArn: "arn",
      databaseEnvironment: { orders: {}, payments: {} },
    });
    const declared = Object.entries(functions).flatMap(([name, fn]) =>
      fn.events.flatMap((e) => {
        const msk = e.msk as { topic: string; consumerGroupId: string } | undefined;
        return msk ? [{ topic: msk.topic, function: name, group: msk.consumerGroupId }] : [];
      }),
    );
    const documented = (Object.keys(TOPIC_ROLES) as Topic[]).flatMap((topic) =>
      TOPIC_ROLES[topic].consumers.map((consumer) => ({ topic, function: consumer.function, group: consumer.group })),
    );
    const key = (x: { topic: string; function: string }) => `${x.topic} ${x.function}`;
    assert.ok(declared.length >= Object.keys(TOPICS).length, "every topic has a consumer");
    assert.deepEqual(
      [...declared].sort((a, b) => key(a).localeCompare(key(b))),
      [...documented].sort((a, b) => key(a).localeCompare(key(b))),
    );
    for (const { topic, group } of documented) {
      const consume = Object.values(document.operations).find(
        (o) => o.action === "receive" && o.bindings?.kafka?.groupId?.enum.includes(group),
      );
      assert.ok(consume, `an operation receives ${topic} as ${group}`);
    }
  });

  it("is served by the start command's frontend at /asyncapi.json and linked from the page", async () => {
    const port = await freePort();
    const frontend = await startFrontend({
      port,
      host: "127.0.0.1",
      apiUrl: "http://127.0.0.1:3000",
      wsUrl: "ws://127.0.0.1:3001",
      kafkaBrokers: ["127.0.0.1:9092"],
    });
    try {
      const response = await fetch(`${frontend.url}/asyncapi.json`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const served = (await response.json()) as Doc;
      assert.deepEqual(
        served,
        JSON.parse(JSON.stringify(asyncApiDocument({ wsUrl: "ws://127.0.0.1:3001", kafkaBrokers: "127.0.0.1:9092" }))),
      );
      const page = await (await fetch(`${frontend.url}/`)).text();
      assert.match(page, /<a id="asyncapi-link"[^>]*href="\/asyncapi\.json"/);
    } finally {
      await frontend.stop();
    }
  });
});
