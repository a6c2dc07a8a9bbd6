import path from "node:path";
import { watchOver } from "./core/leftovers.ts";
import { LOCAL_DIR } from "./core/paths.ts";
import { killAllChildren } from "./core/process.ts";
import { DEFAULT_PORTS, startStack, type RunningStack } from "./stack.ts";
import { tracesPlan } from "./zipkin/part.ts";

/**
 * `npm start`: the whole shop on this machine, until Ctrl-C (`npm start -- --verbose` shows
 * serverless-offline's own output too). Ports can be moved with HTTP_PORT, WEBSOCKET_PORT,
 * LAMBDA_PORT, FRONTEND_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, ORDERS_DB_PORT, PAYMENTS_DB_PORT,
 * COGNITO_PORT, ZIPKIN_PORT; its data folder (.local/dev) with STACK_NAME. AUTH=off runs the shop open.
 * Traces are on: once the shop is ready, Zipkin starts in the background (its jar fetched from
 * Maven Central the first time) and the functions send it their spans, as OTLP through a bridge in
 * this process (ZIPKIN_URL names a running Zipkin instead). TRACES=off leaves Zipkin out and sends
 * no spans; an OTEL_TRACES_EXPORTER=otlp of one's own (with its OTEL_* variables) sends them there
 * instead, and TRACES_URL then names its viewer for the page.
 */
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const name = process.env.STACK_NAME ?? "dev";
const zipkinPort = port("ZIPKIN_PORT", DEFAULT_PORTS.zipkin);
const started = Date.now();
const verbose = process.argv.includes("--verbose");
if (verbose) process.env.OFFLINE_LOG_LEVEL ??= "notice";

let stack: RunningStack | undefined;
let stopping = false;
let firstSignalAt = 0;
const starting = new AbortController();
// However this process ends, nothing it started outlives it.
process.on("exit", killAllChildren);
watchOver(path.join(LOCAL_DIR, name));

async function shutdown(signal: string): Promise<void> {
  if (stopping) {
    // One Ctrl-C arrives up to three times (from the terminal, relayed by npm, relayed by tsx); a
    // second one pressed by a person stops everything at once.
    if (Date.now() - firstSignalAt < 1_000) return;
    console.log(`\n${signal} again: killing everything now`);
    process.exit(130);
  }
  stopping = true;
  firstSignalAt = Date.now();
  console.log(`\n${signal}: stopping the shop ...`);
  if (!stack) return starting.abort(); // startStack() stops what it started, then rejects
  await stack.stop();
  console.log("Stopped.");
  process.exit(0);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(signal));

console.log("Starting Gozon Async Shop (Ctrl-C stops everything)");
const AUTH_OFF_WARNING = "! AUTH=off: sign-in is off; anyone who knows a user id can read and spend that user's money";
if (process.env.AUTH === "off") console.log(`  ${AUTH_OFF_WARNING}`);
try {
  stack = await startStack({
    name,
    ports: {
      http: port("HTTP_PORT", DEFAULT_PORTS.http),
      websocket: port("WEBSOCKET_PORT", DEFAULT_PORTS.websocket),
      lambda: port("LAMBDA_PORT", DEFAULT_PORTS.lambda),
      frontend: port("FRONTEND_PORT", DEFAULT_PORTS.frontend),
      kafka: port("KAFKA_PORT", DEFAULT_PORTS.kafka),
      kafkaController: port("KAFKA_CONTROLLER_PORT", DEFAULT_PORTS.kafkaController),
      ordersDb: port("ORDERS_DB_PORT", DEFAULT_PORTS.ordersDb),
      paymentsDb: port("PAYMENTS_DB_PORT", DEFAULT_PORTS.paymentsDb),
      cognito: port("COGNITO_PORT", DEFAULT_PORTS.cognito),
      zipkin: zipkinPort,
    },
    progress: (line) => console.log(`  ${line}`),
    // Function logs are JSON lines; the rest of serverless-offline's output only with --verbose.
    output: (line) => {
      // Once stopping, what the children say on their way out (esbuild's exit included) is noise.
      if (!stopping && (verbose || line.startsWith("{") || /error|warn/i.test(line))) console.log(line);
    },
    signal: starting.signal,
  });
} catch (error) {
  if (stopping) {
    console.log("Stopped.");
    process.exit(0);
  }
  console.error(`\nThe shop did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

void stack.failed.then((error) => {
  console.error(`\nThe shop stopped: ${error.message}`);
  process.exit(1);
});

const identity = stack.identity;
const plan = tracesPlan(process.env, zipkinPort);
const traces = plan.zipkin
  ? `Traces (Zipkin)   ${stack.tracesUrl} (starting in the background)`
  : plan.bridgeTo
    ? `Traces            Zipkin at ZIPKIN_URL=${plan.bridgeTo}, seen at ${stack.tracesUrl}`
    : `Traces            ${process.env.TRACES === "off" ? "off (TRACES=off)" : `OTEL_TRACES_EXPORTER=${process.env.OTEL_TRACES_EXPORTER}${stack.tracesUrl ? `, seen at ${stack.tracesUrl}` : ""}`}`;
console.log(`
Ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  Shop (frontend)   ${stack.frontendUrl}
  API docs          ${stack.docsUrl}
  HTTP API          ${stack.apiUrl}/api
  WebSocket         ${stack.wsUrl}?${identity ? "token=<access token>" : "user_id=<uuid>"}
  ${traces}
  Metrics           ${stack.metricsUrl} (Prometheus text; CloudWatch EMF on AWS)
  Sign-in           ${identity ? `${identity.local ? "cognito-local" : "Amazon Cognito"} ${identity.endpoint}, user pool ${identity.userPoolId}, app client ${identity.clientId}` : "off (AUTH=off)"}
  Kafka             ${stack.kafkaBrokers.join(",")}
  Orders DB         ${stack.ordersDatabaseUrl}
  Payments DB       ${stack.paymentsDatabaseUrl}
`);
if (!identity) console.log(`${AUTH_OFF_WARNING}\n`);
