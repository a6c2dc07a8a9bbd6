import { DEFAULT_PORTS, startStack } from "./stack.ts";

/**
 * `npm start`: the whole shop on this machine, until Ctrl-C. Ports can be moved with
 * HTTP_PORT, WEBSOCKET_PORT, LAMBDA_PORT, FRONTEND_PORT, KAFKA_PORT, ORDERS_DB_PORT, PAYMENTS_DB_PORT.
 */
const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const started = Date.now();
const verbose = process.argv.includes("--verbose");

console.log("Starting Gozon Async Shop (Ctrl-C stops everything)");
const stack = await startStack({
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
  // Function logs are JSON lines; the rest of serverless-offline's chatter only with --verbose.
  output: (line) => {
    if (verbose || line.startsWith("{") || /error|warn/i.test(line)) console.log(line);
  },
}).catch((error: unknown) => {
  console.error(`\nThe shop did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

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

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the shop ...`);
  await stack.stop();
  console.log("Stopped.");
  process.exit(0);
};
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
