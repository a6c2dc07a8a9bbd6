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
import { localFunctionName } from "../../test/support/stack.ts";
import { InvocationLog } from "./cost.ts";
import { settledHopTable } from "./hops.ts";
import { Shoppers, type RateResult } from "./open-loop.ts";
import {
  BENCH_PORTS,
  CONNECTIONS,
  external,
  FLOOD,
  HOLD,
  option,
  OUT,
  RATES,
  REPORT_MS,
  SECONDS,
  TRACES,
  TRACES_RATE,
  USERS,
} from "./options.ts";
import { databaseLimit } from "./pgbench.ts";
import { holds, measurePhase, printRow, printTableHeader, type Row } from "./phase.ts";
import { ProcessSampler } from "./processes.ts";
import { printSummary, summarise, writeSummary } from "./summary.ts";

const invocations = new InvocationLog();

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

printTableHeader();

async function run(
  phase: string,
  rate: number,
  seconds: number,
  connections: RateResult["connections"] = CONNECTIONS as RateResult["connections"],
): Promise<Row> {
  const row = await measurePhase({ stack, users, shoppers, sampler, invocations }, phase, rate, seconds, connections);
  rows.push(row);
  if (!row.correct) failed = true;
  printRow(row, rate, connections);
  await writeFile(path.join(OUT, `${phase}-${rate}.json`), JSON.stringify(row, null, 2));
  return row;
}

/** The hop table of the orders placed between `since` and `until`, once Zipkin holds their spans. */
async function hopsOf(since: number, until: number): Promise<string | undefined> {
  if (!stack?.tracesUrl) return undefined;
  return settledHopTable(stack.tracesUrl, localFunctionName("createOrder"), since, until);
}

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

  const summary = summarise(rows, sustained, limit, hops);
  await writeSummary(summary);
  printSummary(summary);
} finally {
  shoppers.close();
  await stack?.stop();
}
if (failed) {
  console.error("a rate lost or double-charged an order: this run failed");
  process.exitCode = 1;
}
