/**
 * Measures what a shopper feels, on the real stack started by `npm start` itself:
 *   1. `npm start` -> "Ready" (cold: fresh Kafka and Postgres data every run);
 *   2. POST /api/orders -> the WebSocket ORDER_UPDATED frame with FINISHED, N sequential orders
 *      after a warm-up (one order at a time, so this is latency, not throughput);
 *   3. Ctrl-C -> everything stopped.
 * Usage: npm run bench:latency [-- --orders 20]
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { newUserId, ShopClient } from "../test/support/shop-client.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ORDERS = arg("orders", 20);
const WARMUP = 3;
const ports = {
  HTTP_PORT: "4200",
  WEBSOCKET_PORT: "4201",
  LAMBDA_PORT: "4202",
  FRONTEND_PORT: "4208",
  KAFKA_PORT: "28192",
  KAFKA_CONTROLLER_PORT: "28193",
  ORDERS_DB_PORT: "18532",
  PAYMENTS_DB_PORT: "18533",
  ZIPKIN_PORT: "4210",
};

const started = performance.now();
const shopProcess = spawn("npm", ["start", "--silent"], {
  env: { ...process.env, ...ports, AUTH: "off", STACK_NAME: "bench-latency" },
  stdio: ["ignore", "pipe", "inherit"],
  detached: true,
});
let seen = "";
shopProcess.stdout!.on("data", (chunk: Buffer) => void (seen += chunk.toString()));
/** Resolves once npm start has printed `line` (or one of them). */
const printed = (...lines: string[]) =>
  new Promise<void>((resolve, reject) => {
    const check = () => lines.some((line) => seen.includes(line)) && resolve();
    shopProcess.stdout!.on("data", check);
    shopProcess.once("exit", (code) => reject(new Error(`npm start exited with ${code}:\n${seen}`)));
    check();
  });
await printed("Ready in");
const readyMs = performance.now() - started;
// Zipkin starts in the background once the shop is ready (about a second of CPU): orders are timed
// once it serves, or once the start command said it could not, as the steady state they are.
await printed("Traces ");
if (seen.includes("Traces (Zipkin)")) await printed("✓ Zipkin on", "! Zipkin did not start");

const shop = new ShopClient(`http://127.0.0.1:${ports.HTTP_PORT}`, `ws://127.0.0.1:${ports.WEBSOCKET_PORT}`);
const user = newUserId();
await shop.createAccount(user);
await shop.deposit(user, 1_000_000);
const socket = await shop.connect(user);
const samples: number[] = [];
for (let i = 0; i < WARMUP + ORDERS; i += 1) {
  const t0 = performance.now();
  const placed = await shop.placeOrder(user, 10, `bench ${i}`);
  const postMs = performance.now() - t0;
  const frame = await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
  if (frame.status !== "FINISHED") throw new Error(`order ${placed.body.order_id} ended ${String(frame.status)}`);
  if (i >= WARMUP) samples.push(performance.now() - t0);
  if (i === WARMUP) console.error(`(POST alone took ${postMs.toFixed(1)} ms on the first measured order)`);
}
socket.close();

const stopAt = performance.now();
process.kill(-shopProcess.pid!, "SIGINT");
await new Promise((resolve) => shopProcess.once("exit", resolve));
const stopMs = performance.now() - stopAt;

const sorted = [...samples].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const row = (what: string, value: string) => console.log(`| ${what.padEnd(46)} | ${value.padStart(28)} |`);
console.log(`\n| ${"measure".padEnd(46)} | ${"value".padStart(28)} |\n|${"-".repeat(48)}|${"-".repeat(30)}|`);
row("npm start -> Ready (cold Kafka + 2x Postgres)", `${(readyMs / 1000).toFixed(1)} s`);
row(`POST /api/orders -> WS FINISHED, n=${samples.length}`, `median ${q(0.5).toFixed(1)} ms`);
row("  min / p90 / max", `${sorted[0]!.toFixed(1)} / ${q(0.9).toFixed(1)} / ${sorted.at(-1)!.toFixed(1)} ms`);
row("Ctrl-C -> everything stopped", `${(stopMs / 1000).toFixed(1)} s`);
