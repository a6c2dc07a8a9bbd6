import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, it } from "node:test";
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";
import { ALL_TOPICS } from "../../shared/contract/events.ts";
import { KAFKA_VERSION } from "../../local/kafka/install.ts";
import { DEFAULT_PORTS } from "../../local/stack.ts";
import { MEM_MAX_SPANS, ZIPKIN_VERSION } from "../../local/zipkin/install.ts";
import { tracesPlan } from "../../local/zipkin/part.ts";

/**
 * docker-compose.yml against the Compose Specification's JSON schema, and against what the native
 * start command (`npm start`, local/stack.ts) uses: the same ports, databases, broker settings,
 * topics and variables.
 *
 * The schema is the Compose Specification's own (github.com/compose-spec/compose-spec,
 * schema/compose-spec.json, "$id": "compose_spec.json"), as the dclint npm package ships it in
 * schemas/compose.schema.json: installed from the registry, not copied here.
 */

const ROOT = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
const require = createRequire(import.meta.url);
const schemaFile = path.join(path.dirname(require.resolve("dclint/package.json")), "schemas", "compose.schema.json");

interface Service {
  image?: string;
  environment?: Record<string, string | number>;
  ports?: string[];
  command?: string | string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parseYaml(read("docker-compose.yml"), { merge: true }) as {
  name: string;
  services: Record<string, Service>;
};
const services = compose.services;

/** "55432:5432" -> { host: 55432, container: 5432 }; "127.0.0.1:55432:5432" -> { ip: "127.0.0.1", host: 55432, container: 5432 } */
const portsOf = (service: Service) =>
  (service.ports ?? []).map((p) => {
    const parts = String(p).split(":");
    const [host, container] = parts.slice(-2).map(Number);
    return { ...(parts.length === 3 ? { ip: parts[0]! } : {}), host: host!, container: container! };
  });

/** The native broker's settings: the key=value lines of serverProperties() in local/kafka/broker.ts that use no variable. */
function nativeBrokerSettings(): Map<string, string> {
  const source = read("local/kafka/broker.ts");
  const body = /function serverProperties[\s\S]*?return `([\s\S]*?)`;/.exec(source)?.[1];
  assert.ok(body, "serverProperties() found in local/kafka/broker.ts");
  return new Map(
    body
      .split("\n")
      .filter((line) => /^[a-z.]+=[^$]*$/.test(line))
      .map((line) => line.split("=", 2) as [string, string]),
  );
}

describe("docker-compose.yml", () => {
  it("is valid against the Compose Specification's JSON schema", () => {
    const { $schema: draft, ...schema } = JSON.parse(readFileSync(schemaFile, "utf8")) as {
      $schema: string;
      $id: string;
      title: string;
    };
    assert.equal(schema.$id, "compose_spec.json");
    assert.equal(schema.title, "Compose Specification");
    assert.match(draft, /draft-07/); // Ajv's default draft
    const ajv = new Ajv({ allErrors: true, strict: false });
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    assert.ok(valid, `schema errors:\n${ajv.errorsText(validate.errors, { separator: "\n" })}`);
    // The schema does reject what it should (a typo in a service key).
    assert.equal(validate({ services: { app: { imag: "node:20" } } }), false);
  });

  it("runs the same parts as the start command: Kafka, the topics, both databases, Zipkin, the app", () => {
    assert.deepEqual(Object.keys(services).sort(), [
      "app",
      "kafka",
      "kafka-topics",
      "orders-db",
      "payments-db",
      "zipkin",
    ]);
    assert.equal(services.kafka!.image, `apache/kafka:${KAFKA_VERSION}`);
    assert.equal(services.zipkin!.image, `openzipkin/zipkin:${ZIPKIN_VERSION}`);
    assert.equal(services["kafka-topics"]!.image, `apache/kafka:${KAFKA_VERSION}`);
  });

  it("publishes the start command's ports: to everyone only the page, the HTTP API and the WebSocket; the rest on 127.0.0.1", () => {
    assert.deepEqual(
      portsOf(services.app!),
      [DEFAULT_PORTS.http, DEFAULT_PORTS.websocket, DEFAULT_PORTS.frontend].map((p) => ({ host: p, container: p })),
    );
    assert.deepEqual(portsOf(services["orders-db"]!), [
      { ip: "127.0.0.1", host: DEFAULT_PORTS.ordersDb, container: 5432 },
    ]);
    assert.deepEqual(portsOf(services["payments-db"]!), [
      { ip: "127.0.0.1", host: DEFAULT_PORTS.paymentsDb, container: 5432 },
    ]);
    assert.deepEqual(portsOf(services.kafka!), [{ ip: "127.0.0.1", host: 19092, container: 19092 }]);
    assert.deepEqual(portsOf(services.zipkin!), [{ ip: "127.0.0.1", host: DEFAULT_PORTS.zipkin, container: 9411 }]);
    for (const [name, service] of Object.entries(services)) {
      for (const port of portsOf(service)) {
        assert.ok(
          ![DEFAULT_PORTS.lambda, DEFAULT_PORTS.cognito].includes(port.host),
          `${name} does not publish ${port.host}`,
        );
      }
    }
    // serverless-offline's own defaults agree (serverless.yml).
    const serverless = read("serverless.yml");
    for (const [variable, port] of [
      ["HTTP_PORT", DEFAULT_PORTS.http],
      ["WEBSOCKET_PORT", DEFAULT_PORTS.websocket],
      ["LAMBDA_PORT", DEFAULT_PORTS.lambda],
    ] as const) {
      assert.ok(serverless.includes(`\${env:${variable}, ${port}}`), `serverless.yml defaults ${variable} to ${port}`);
    }
    const health = services.app!.healthcheck!.test.join(" ");
    assert.ok(
      health.includes(`http://127.0.0.1:${DEFAULT_PORTS.http}/api/health`),
      "the app's health check asks the HTTP API",
    );
  });

  it("points the app at its own databases and broker, through the variables the start command reads", () => {
    const env = services.app!.environment!;
    const stack = read("local/stack.ts");
    for (const variable of ["ORDERS_DATABASE_URL", "PAYMENTS_DATABASE_URL", "KAFKA_BROKERS", "OFFLINE_HOST"]) {
      assert.ok(stack.includes(`env.${variable}`), `local/stack.ts reads ${variable}`);
    }
    assert.ok(
      read("serverless.yml").includes("${env:OFFLINE_HOST, '127.0.0.1'}"),
      "serverless-offline listens on OFFLINE_HOST",
    );
    assert.equal(env.OFFLINE_HOST, "0.0.0.0");
    for (const [variable, service, database] of [
      ["ORDERS_DATABASE_URL", "orders-db", "orders"],
      ["PAYMENTS_DATABASE_URL", "payments-db", "payments"],
    ] as const) {
      const url = new URL(String(env[variable]));
      const db = services[service]!.environment!;
      assert.equal(url.hostname, service);
      assert.equal(Number(url.port), portsOf(services[service]!)[0]!.container);
      assert.equal(url.pathname, `/${database}`, `the start command's database is named ${database}`);
      assert.equal(db.POSTGRES_DB, database);
      assert.equal(decodeURIComponent(url.username), db.POSTGRES_USER);
      assert.equal(decodeURIComponent(url.password), db.POSTGRES_PASSWORD);
      assert.deepEqual(services.app!.depends_on![service], { condition: "service_healthy" });
    }
    const kafka = services.kafka!.environment!;
    assert.ok(
      String(kafka.KAFKA_ADVERTISED_LISTENERS).split(",").includes(`PLAINTEXT://${env.KAFKA_BROKERS}`),
      "KAFKA_BROKERS is the broker's advertised plaintext listener",
    );
    assert.equal(env.KAFKA_AUTH ?? "none", "none", "plaintext, as locally");
    assert.deepEqual(services.app!.depends_on!.kafka, { condition: "service_healthy" });
    assert.deepEqual(services.app!.depends_on!["kafka-topics"], { condition: "service_completed_successfully" });
  });

  it("sends the functions' spans to its Zipkin through the start command's OTLP bridge, kept in memory as the start command's, without making the app wait for it", () => {
    const env = services.app!.environment!;
    const zipkin = services.zipkin!.environment!;
    assert.equal(zipkin.STORAGE_TYPE, "mem");
    assert.equal(Number(zipkin.MEM_MAX_SPANS), MEM_MAX_SPANS);
    assert.equal(env.OTEL_TRACES_EXPORTER, undefined, "the start command sets the functions' exporter (otlp) itself");
    const zipkinUrl = new URL(String(env.ZIPKIN_URL));
    assert.equal(zipkinUrl.hostname, "zipkin");
    assert.equal(Number(zipkinUrl.port), portsOf(services.zipkin!)[0]!.container);
    // The start command in the app bridges into this Zipkin and starts none of its own; the page links to the published port.
    const plan = tracesPlan(
      Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      DEFAULT_PORTS.zipkin,
    );
    assert.equal(plan.zipkin, false);
    assert.equal(plan.bridgeTo, String(env.ZIPKIN_URL));
    assert.deepEqual(plan.offlineEnv, {});
    assert.equal(plan.tracesUrl, `http://localhost:${portsOf(services.zipkin!)[0]!.host}/zipkin/`);
    assert.equal(services.app!.depends_on!.zipkin, undefined, "the shop does not wait for Zipkin");
  });

  it("configures the broker as the native one", () => {
    const native = nativeBrokerSettings();
    const kafka = services.kafka!.environment!;
    let compared = 0;
    for (const [variable, value] of Object.entries(kafka)) {
      const key = variable
        .replace(/^KAFKA_/, "")
        .toLowerCase()
        .replaceAll("_", ".");
      // The listeners differ by design: the container adds one for the host (EXTERNAL, 19092).
      if (!native.has(key) || key.includes("listener")) continue;
      assert.equal(String(value), native.get(key), `${variable} = ${key} of local/kafka/broker.ts`);
      compared += 1;
    }
    assert.ok(compared >= 10, `compared ${compared} broker settings`);
    assert.equal(native.get("auto.create.topics.enable"), "false");
  });

  it("creates every topic the start command creates, with as many partitions", () => {
    const command = [services["kafka-topics"]!.command].flat().join("\n");
    const listed = /for topic in ([\s\S]*?); do/
      .exec(command)?.[1]
      ?.split(/[\s\\]+/)
      .filter(Boolean);
    assert.deepEqual([...(listed ?? [])].sort(), [...ALL_TOPICS].sort());
    const partitions = /ensureTopics\([^)]*numPartitions = (\d+)/.exec(read("local/kafka/broker.ts"))?.[1];
    assert.ok(command.includes(`--partitions ${partitions}`), `--partitions ${partitions}`);
  });
});
