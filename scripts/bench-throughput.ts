/**
 * Throughput of the whole flow on the real stack: ORDERS orders from USERS users, CONCURRENCY
 * requests in flight, each order timed from its POST to the WebSocket ORDER_UPDATED frame.
 * Usage: npm run bench:throughput [-- --orders 1000 --users 20 --concurrency 50]
 */
import { performance } from "node:perf_hooks";
import { startStack } from "../local/stack.ts";
import { newUserId, ShopClient, type Socket } from "../test/support/shop-client.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ORDERS = arg("orders", 1000);
const USERS = arg("users", 20);
const CONCURRENCY = arg("concurrency", 50);

const stack = await startStack({
  name: "bench-throughput",
  ports: { http: 4500, websocket: 4501, lambda: 4502, frontend: 4508, kafka: 59092, kafkaController: 59093, ordersDb: 58532, paymentsDb: 58533 },
  progress: (line) => console.error(`  ${line}`),
});
try {
  const shop = new ShopClient(stack.apiUrl, stack.wsUrl);
  const users = Array.from({ length: USERS }, () => newUserId());
  const sockets = new Map<string, Socket>();
  for (const user of users) {
    await shop.createAccount(user);
    await shop.deposit(user, 1_000_000);
    sockets.set(user, await shop.connect(user));
  }
  // warm-up: every function once
  await shop.placeOrder(users[0]!, 1).then((p) => sockets.get(users[0]!)!.waitFor((f) => f.order_id === p.body.order_id));

  const postMs: number[] = [];
  const settleMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const pending: Promise<void>[] = [];
      while (next < ORDERS) {
        const i = next++;
        const user = users[i % USERS]!;
        const t0 = performance.now();
        const placed = await shop.placeOrder(user, 1, `bench ${i}`);
        if (placed.status !== 201) throw new Error(`POST answered ${placed.status}`);
        postMs.push(performance.now() - t0);
        pending.push(
          sockets.get(user)!.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id, 120_000).then(() => void settleMs.push(performance.now() - t0)),
        );
      }
      await Promise.all(pending);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  sockets.forEach((s) => s.close());

  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(0);
  const row = (what: string, value: string) => console.log(`| ${what.padEnd(40)} | ${value.padStart(30)} |`);
  console.log(`\n| ${"measure".padEnd(40)} | ${"value".padStart(30)} |\n|${"-".repeat(42)}|${"-".repeat(32)}|`);
  row("orders / users / concurrency", `${ORDERS} / ${USERS} / ${CONCURRENCY}`);
  row("settled orders per second", (ORDERS / seconds).toFixed(0));
  row("POST latency p50 / p99", `${q(postMs, 0.5)} / ${q(postMs, 0.99)} ms`);
  row("POST -> WS frame p50 / p99", `${q(settleMs, 0.5)} / ${q(settleMs, 0.99)} ms`);
} finally {
  await stack.stop();
}
