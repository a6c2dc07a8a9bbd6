/**
 * `npm run bench`: the shop's behaviour at given arrival rates, open loop, on the real stack.
 *
 *   npm run bench [-- --rates 50,100,200,400,800 --seconds 30 --users 40 --hold 60 --flood 400 --traces-rate 100 --connections kept-alive --out bench-results]
 *   npm run bench -- --api http://127.0.0.1:3000 --ws ws://127.0.0.1:3001   (a stack already running, AUTH=off)
 *
 * Starts the stack on its own ports (AUTH=off), opens one WebSocket per user, then for each rate
 * offers orders on schedule whatever the answers, and times each from its scheduled send to its
 * final WebSocket frame. Then searches for the highest rate that holds for --hold seconds with p99
 * under 1 s, offers twice that to see how overload is handled, floods it with --flood orders/s from
 * clients that open a connection per request, and measures the machine's database limit with
 * pgbench. Per run it prints the CPU per settled order of the runtime (serverless-offline with every
 * function and the Kafka event source) beside the two databases', and what an order would cost on
 * AWS (cost.ts), from the invocations the functions count (INVOCATION_REPORT_MS). Every run checks every accepted order settled exactly once and every balance
 * adds up; a run that fails that is a failed run (exit 1), whatever its speed. Writes one JSON per
 * rate, summary.json and latency.svg into --out/<timestamp>/. Traces are on, as with `npm start`
 * (Zipkin's CPU is listed with the other processes'); TRACES=off measures the shop without them.
 * What tracing costs is measured in the same run: first a run at --traces-rate (default 100/s) with
 * traces on, and last the same run on a fresh stack with them off (--traces-rate 0 skips both).
 * Two runs are made as a new user's clients would meet the shop: "fresh start", at --traces-rate
 * from clients that open a connection per request, as soon as the stack says it is ready (its
 * accounts made, nothing warmed up), and "new connections", the same rate held --hold seconds on
 * the warm stack, again a connection per request.
 */
import { randomUUID } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { startStack, type RunningStack } from "../../local/stack.ts";
import { checkMoney } from "../../test/support/traffic.ts";
import { localFunctionName } from "../../test/support/stack.ts";
import { costOf, costTable, InvocationLog, type Cost } from "./cost.ts";
import { hopTable, tracesFrom } from "./hops.ts";
import { Shoppers, type RateResult } from "./open-loop.ts";
import { databaseLimit } from "./pgbench.ts";
import { latencyPlot } from "./plot.ts";
import { ProcessSampler, type Usage } from "./processes.ts";

const option = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const RATES = option("rates", "50,100,200,400,800").split(",").map(Number);
const SECONDS = Number(option("seconds", "30"));
const USERS = Number(option("users", "40"));
const HOLD = Number(option("hold", "60"));
const FLOOD = Number(option("flood", "400"));
/** Traces on for the runs (as `npm start` has them) unless TRACES=off. */
const TRACES = process.env.TRACES === "off" ? "off" : "on";
/** The rate at which the cost of tracing is measured: a run with traces on, then one on a stack with them off (0: skipped). */
const TRACES_RATE = Number(option("traces-rate", "100"));
/** How the series, holds and overload send: over at most 256 kept-alive connections, or a new one per request ("unbounded"). */
const CONNECTIONS = option("connections", "kept-alive");
if (CONNECTIONS !== "kept-alive" && CONNECTIONS !== "unbounded")
  throw new Error(`--connections must be kept-alive or unbounded, not ${CONNECTIONS}`);
/** How often the functions report what they were invoked for (the cost table's source). */
const REPORT_MS = 1_000;
const OUT = path.resolve(option("out", "bench-results"), new Date().toISOString().replace(/[:.]/g, "-"));
const external = process.argv.includes("--api");

type Row = Omit<RateResult, "placed"> & {
  phase: string;
  processes: Record<string, Usage>;
  /** CPU milliseconds per settled order: the runtime's (serverless-offline, its functions and the event source) and the two databases'. */
  cpuMsPerOrder: { runtime: number; databases: number; broker: number; zipkin: number; loadGenerator: number };
  cost: Cost;
  correct: boolean;
  lost: number;
  chargedTwice: number;
};

const invocations = new InvocationLog();

const BENCH_PORTS = {
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

/** The bench's own stack, AUTH=off; traces on (Zipkin started) unless `traces` is "off". */
async function startBenchStack(traces: "on" | "off"): Promise<RunningStack> {
  console.error(`starting the stack (AUTH=off, TRACES=${traces}) ...`);
  const started = await startStack({
    name: "bench",
    ports: BENCH_PORTS,
    env: { ...process.env, AUTH: "off", TRACES: traces, INVOCATION_REPORT_MS: String(REPORT_MS) },
    progress: (line) => console.error(`  ${line}`),
    output: (line) => invocations.take(line),
  });
  // Spans of the runs count only once Zipkin takes them in.
  if (traces === "on") await started.zipkinReady();
  return started;
}

let stack: RunningStack | undefined = external ? undefined : await startBenchStack(TRACES);
const apiUrl = stack?.apiUrl ?? option("api", "http://127.0.0.1:3000");
const wsUrl = stack?.wsUrl ?? option("ws", "ws://127.0.0.1:3001");
const rows: Row[] = [];
let failed = false;

async function post(pathname: string, body: unknown): Promise<void> {
  const response = await fetch(`${apiUrl}${pathname}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`${pathname} answered ${response.status}: ${await response.text()}`);
}

/** Funded users and a socket each; unless `warm` is false, every function then run once. */
async function openShoppers(warm = true): Promise<{ users: string[]; shoppers: Shoppers }> {
  const users = Array.from({ length: USERS }, () => randomUUID());
  for (const user of users) {
    await post("/api/payments/create_account", { user_id: user });
    await post("/api/payments/deposit", { user_id: user, amount: 1_000_000_000 });
  }
  const shoppers = new Shoppers(apiUrl, wsUrl, users);
  await shoppers.open();
  if (warm) await shoppers.offer(20, 3); // warm-up: every function once
  return { users, shoppers };
}

/** The fresh-start run is the stack's first traffic: nothing offered before it but the accounts. */
const FRESH_START = !external && TRACES_RATE > 0;
let { users, shoppers } = await openShoppers(!FRESH_START);
const sampler = new ProcessSampler(() => ({
  broker: stack?.pidOf("kafka"),
  "orders-db": stack?.pidOf("ordersDb"),
  "payments-db": stack?.pidOf("paymentsDb"),
  "serverless-offline": stack?.pidOf("offline"),
  // What Zipkin costs to take the spans in, beside the rest (none with TRACES=off).
  zipkin: stack?.pidOf("zipkin"),
  "load generator": process.pid,
}));
await mkdir(OUT, { recursive: true });

const header =
  "| phase | offered/s | accepted/s | settled/s | POST p50/p99 ms | order->frame p50/p90/p99/max ms | slowest answer ms (> 1 s) | CPU ms/order runtime / databases | invocations/order | USD/M orders | queued at end | errors | correct |";
console.log(`\n${header}\n|${"---|".repeat(13)}`);

const perOrder = (cpuSeconds: number | undefined, orders: number) =>
  orders > 0 ? Math.round(((cpuSeconds ?? 0) * 1000 * 10) / orders) / 10 : 0;

async function run(
  phase: string,
  rate: number,
  seconds: number,
  connections: RateResult["connections"] = CONNECTIONS as RateResult["connections"],
): Promise<Row> {
  invocations.drain(); // what came before this run is not its cost
  await sampler.begin();
  const { placed, ...result } = await shoppers.offer(rate, seconds, { connections });
  const processes = await sampler.end();
  // The functions report once a second: wait for what the last second of the run did.
  await new Promise((resolve) => setTimeout(resolve, REPORT_MS + 500));
  const cost = costOf(invocations.drain(), {
    orders: result.settled,
    httpRequests: result.sent,
    websocketMessages: result.framesReceived,
    connectionMinutes: (USERS * seconds) / 60,
  });
  const cpu = (name: string) => processes[name]?.cpuSeconds;
  const cpuMsPerOrder = {
    runtime: perOrder(cpu("serverless-offline"), result.settled),
    databases: perOrder((cpu("orders-db") ?? 0) + (cpu("payments-db") ?? 0), result.settled),
    broker: perOrder(cpu("broker"), result.settled),
    zipkin: perOrder(cpu("zipkin"), result.settled),
    loadGenerator: perOrder(cpu("load generator"), result.settled),
  };
  const money = await checkMoneyOf(placed);
  const row: Row = {
    phase,
    ...result,
    processes,
    cpuMsPerOrder,
    cost,
    correct: money.correct,
    lost: money.lost,
    chargedTwice: money.chargedTwice,
  };
  rows.push(row);
  if (!row.correct) failed = true;
  const s = row.settleMs;
  const invocationsPerOrder = Math.round(cost.rows.reduce((n, r) => n + r.invocationsPer1000, 0)) / 1000;
  console.log(
    `| ${phase}${connections === "unbounded" ? " (a connection per request)" : ""} | ${rate} | ${row.acceptedPerSecond} | ${row.settledPerSecond} | ${row.postMs.p50}/${row.postMs.p99} | ${s.p50}/${s.p90}/${s.p99}/${s.max} | ${row.slowestAnswerMs} (${row.answersOverOneSecond}) | ${cpuMsPerOrder.runtime} / ${cpuMsPerOrder.databases} | ${invocationsPerOrder} | ${cost.usdPerMillionOrders.total} | ${row.queuedAtEnd} | ${JSON.stringify(row.errors)} | ${row.correct ? "yes" : `NO: lost ${row.lost}, charged twice ${row.chargedTwice}`} |`,
  );
  await writeFile(path.join(OUT, `${phase}-${rate}.json`), JSON.stringify(row, null, 2));
  return row;
}

/** The hop table of the orders placed between `since` and `until`, once Zipkin holds their spans. */
async function hopsOf(since: number, until: number): Promise<string | undefined> {
  if (!stack?.tracesUrl) return undefined;
  // Spans leave in one-second batches: read until two reads a second apart find as many traces.
  let traces = await tracesFrom(stack.tracesUrl, localFunctionName("createOrder"), since, until);
  for (let reads = 0; reads < 15; reads += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const again = await tracesFrom(stack.tracesUrl, localFunctionName("createOrder"), since, until);
    const settled = again.length === traces.length;
    traces = again;
    if (settled) break;
  }
  return hopTable(traces);
}

async function checkMoneyOf(placed: RateResult["placed"]) {
  if (!stack) return { correct: true, lost: 0, chargedTwice: 0 };
  const money = await checkMoney(stack.ordersDatabaseUrl, stack.paymentsDatabaseUrl, placed, users);
  return {
    correct: money.lost === 0 && money.chargedTwice === 0 && money.unbalanced.length === 0,
    lost: money.lost,
    chargedTwice: money.chargedTwice,
  };
}

const holds = (row: Row) =>
  row.correct &&
  row.queuedAtEnd === 0 &&
  (row.settleMs.p99 ?? Infinity) < 1_000 &&
  Object.keys(row.errors).length === 0;

try {
  if (FRESH_START) await run("fresh start", TRACES_RATE, SECONDS, "unbounded");
  // Tracing's cost, part one: a run with traces on, on a fresh stack (part two ends the bench).
  const tracing = TRACES === "on" && TRACES_RATE > 0 && !external;
  let hops: string | undefined;
  if (tracing) {
    const since = Date.now();
    await run("traces on", TRACES_RATE, SECONDS);
    hops = await hopsOf(since, Date.now());
  }
  for (const rate of RATES) await run("series", rate, SECONDS);

  // The highest rate that holds: start from the best of the series; step up by a quarter while it
  // holds, or down by a fifth until one does (a series run is shorter than a hold).
  let sustained = 0;
  let candidate = Math.max(0, ...rows.filter(holds).map((r) => r.offered));
  for (let probe = 0; candidate > 0 && probe < 4; probe += 1) {
    if (holds(await run("hold", candidate, HOLD))) {
      sustained = candidate;
      candidate = Math.round(candidate * 1.25);
    } else if (sustained > 0) {
      break;
    } else {
      candidate = Math.round(candidate * 0.8);
    }
  }
  if (TRACES_RATE > 0 && HOLD > 0) await run("new connections", TRACES_RATE, HOLD, "unbounded");
  if (sustained > 0) await run("overload", sustained * 2, SECONDS);
  if (FLOOD > 0) await run("flood", FLOOD, SECONDS, "unbounded");

  shoppers.close();
  await stack?.stop();
  stack = undefined;
  if (tracing) {
    // Part two: the same run on a fresh stack that records no spans and starts no Zipkin.
    stack = await startBenchStack("off");
    ({ users, shoppers } = await openShoppers());
    await run("traces off", TRACES_RATE, SECONDS);
    shoppers.close();
    await stack.stop();
    stack = undefined;
  }
  console.error("measuring the database limit with pgbench ...");
  const limit = await databaseLimit(18732);

  const overload = rows.find((r) => r.phase === "overload");
  const tracedRun = rows.find((r) => r.phase === "traces on");
  const untracedRun = rows.find((r) => r.phase === "traces off");
  const machineCpu = (r: Row) =>
    r.cpuMsPerOrder.runtime + r.cpuMsPerOrder.databases + r.cpuMsPerOrder.broker + r.cpuMsPerOrder.zipkin;
  const tracingCost = tracedRun &&
    untracedRun && {
      rate: tracedRun.offered,
      runtimeCpuMsPerOrder: { on: tracedRun.cpuMsPerOrder.runtime, off: untracedRun.cpuMsPerOrder.runtime },
      zipkinCpuMsPerOrder: tracedRun.cpuMsPerOrder.zipkin,
      runtimeIncrease:
        Math.round((tracedRun.cpuMsPerOrder.runtime / untracedRun.cpuMsPerOrder.runtime - 1) * 1000) / 1000,
      machineIncrease: Math.round((machineCpu(tracedRun) / machineCpu(untracedRun) - 1) * 1000) / 1000,
      settleMs: { on: tracedRun.settleMs, off: untracedRun.settleMs },
    };
  const flood = rows.find((r) => r.phase === "flood");
  const summary = {
    when: new Date().toISOString(),
    users: USERS,
    rates: RATES,
    sustainedOrdersPerSecond: sustained,
    databaseLimit: limit,
    sustainedShareOfLimit:
      "ordersPerSecond" in limit && sustained ? Math.round((sustained / limit.ordersPerSecond) * 100) / 100 : null,
    overload: overload && {
      offered: overload.offered,
      settledPerSecond: overload.settledPerSecond,
      settledShareOfSustained: Math.round((overload.settledPerSecond / sustained) * 100) / 100,
      refusals: overload.errors,
      slowestRefusalMs: overload.refusalMaxMs,
      everyAcceptedOrderSettled: overload.queuedAtEnd === 0 && overload.correct,
    },
    tracingCost,
    hops,
    flood: flood && {
      offered: flood.offered,
      connections: flood.connections,
      settledPerSecond: flood.settledPerSecond,
      settledShareOfSustained: sustained ? Math.round((flood.settledPerSecond / sustained) * 100) / 100 : null,
      slowestAnswerMs: flood.slowestAnswerMs,
      answersOverOneSecond: flood.answersOverOneSecond,
      unanswered: Object.entries(flood.errors)
        .filter(([k]) => !/^\d+$/.test(k))
        .reduce((n, [, v]) => n + v, 0),
      everyAcceptedOrderSettled: flood.queuedAtEnd === 0 && flood.correct,
    },
    rows,
  };
  await writeFile(path.join(OUT, "summary.json"), JSON.stringify(summary, null, 2));
  await writeFile(path.join(OUT, "latency.svg"), latencyPlot(rows.filter((r) => r.phase === "series")));

  const reference =
    [...rows]
      .filter((r) => r.phase === "hold" && r.queuedAtEnd === 0)
      .sort((a, b) => Math.abs(a.offered - 100) - Math.abs(b.offered - 100))[0] ?? rows[0];
  if (hops) console.log(`\nWhere an order's time goes at ${TRACES_RATE}/s, from its trace (traces on run):\n\n${hops}`);
  if (reference)
    console.log(
      `\nWhat an order costs on AWS, from the ${reference.phase} run at ${reference.offered}/s:\n\n${costTable(reference.cost)}`,
    );
  console.log(`\nCPU ms per settled order (runtime = serverless-offline, its functions and the Kafka event source):`);
  for (const row of rows)
    console.log(
      `  ${row.phase} ${row.offered}/s: runtime ${row.cpuMsPerOrder.runtime}, databases ${row.cpuMsPerOrder.databases}, broker ${row.cpuMsPerOrder.broker}, zipkin ${row.cpuMsPerOrder.zipkin}, load generator ${row.cpuMsPerOrder.loadGenerator}`,
    );
  console.log(`\nCPU seconds / peak MB per process:`);
  for (const row of rows)
    console.log(
      `  ${row.phase} ${row.offered}/s: ${Object.entries(row.processes)
        .map(([name, u]) => `${name} ${u.cpuSeconds} s / ${u.peakRssMb} MB`)
        .join(", ")}`,
    );
  console.log(`\nhighest rate that held ${HOLD} s with p99 < 1 s: ${sustained}/s`);
  console.log(
    `database limit (pgbench, the three transactions of an order, 8 clients): ${"tps" in limit ? `${limit.tps} tps = ${limit.ordersPerSecond} orders/s; sustained = ${summary.sustainedShareOfLimit} of it` : limit.skipped}`,
  );
  if (tracingCost) {
    const pct = (x: number) => `${x >= 0 ? "+" : ""}${Math.round(x * 1000) / 10} %`;
    console.log(
      `tracing at ${tracingCost.rate}/s: runtime CPU ${tracingCost.runtimeCpuMsPerOrder.on} ms/order on, ${tracingCost.runtimeCpuMsPerOrder.off} off (${pct(tracingCost.runtimeIncrease)}); ` +
        `with Zipkin's ${tracingCost.zipkinCpuMsPerOrder} ms, the machine ${pct(tracingCost.machineIncrease)}; order->frame p50/p99 ${tracingCost.settleMs.on.p50}/${tracingCost.settleMs.on.p99} ms on, ${tracingCost.settleMs.off.p50}/${tracingCost.settleMs.off.p99} ms off`,
    );
  }
  if (flood)
    console.log(
      `flood at ${flood.offered}/s, a connection per request: settled ${flood.settledPerSecond}/s (${summary.flood!.settledShareOfSustained} of the sustained rate), slowest answer ${flood.slowestAnswerMs} ms, ${flood.answersOverOneSecond} answers over 1 s, ${summary.flood!.unanswered} unanswered, every accepted order settled: ${summary.flood!.everyAcceptedOrderSettled}`,
    );
  if (overload)
    console.log(
      `overload at ${overload.offered}/s: settled ${overload.settledPerSecond}/s (${summary.overload!.settledShareOfSustained} of the sustained rate), refusals ${JSON.stringify(overload.errors)}, slowest refusal ${overload.refusalMaxMs ?? "-"} ms`,
    );
  for (const row of rows)
    console.log(
      `  ${row.phase} ${row.offered}/s: settled ${row.settledPerSecond}/s, p50 ${row.settleMs.p50} ms, p99 ${row.settleMs.p99} ms, ${row.correct ? "correct" : "INCORRECT"}`,
    );
  console.log(`\nresults in ${OUT}`);
} finally {
  shoppers.close();
  await stack?.stop();
}
if (failed) {
  console.error("a rate lost or double-charged an order: this run failed");
  process.exitCode = 1;
}
