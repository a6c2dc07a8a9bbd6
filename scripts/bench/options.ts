/** The bench's command-line options (see bench.ts for what each measures) and its stack's ports. */
import path from "node:path";

export const option = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
export const RATES = option("rates", "50,100,200,400,800").split(",").map(Number);
export const SECONDS = Number(option("seconds", "30"));
export const USERS = Number(option("users", "40"));
export const HOLD = Number(option("hold", "60"));
export const FLOOD = Number(option("flood", "400"));
/** Traces on for the runs (as `npm start` has them) unless TRACES=off. */
export const TRACES = process.env.TRACES === "off" ? "off" : "on";
/** The rate at which the cost of tracing is measured: a run with traces on, then one on a stack with them off (0: skipped). */
export const TRACES_RATE = Number(option("traces-rate", "100"));
/** How the series, holds and overload send: over at most 256 kept-alive connections, or a new one per request ("unbounded"). */
export const CONNECTIONS = option("connections", "kept-alive");
if (CONNECTIONS !== "kept-alive" && CONNECTIONS !== "unbounded")
  throw new Error(`--connections must be kept-alive or unbounded, not ${CONNECTIONS}`);
/** How often the functions report what they were invoked for (the cost table's source). */
export const REPORT_MS = 1_000;
export const OUT = path.resolve(option("out", "bench-results"), new Date().toISOString().replace(/[:.]/g, "-"));
export const external = process.argv.includes("--api");

export const BENCH_PORTS = {
  http: 4600,
  websocket: 4601,
  lambda: 4602,
  frontend: 4608,
  kafka: 27092,
  kafkaController: 27093,
  ordersDb: 18632,
  paymentsDb: 18633,
  zipkin: 4610,
};
