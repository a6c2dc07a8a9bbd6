/**
 * One phase of the bench: orders offered at one rate for some seconds, measured as a row of the
 * table (latency, CPU per order, what it would cost on AWS, whether the money adds up).
 */
import type { RunningStack } from "../../local/stack.ts";
import { checkMoney } from "../../test/support/traffic.ts";
import { costOf, type Cost, type InvocationLog } from "./cost.ts";
import type { RateResult, Shoppers } from "./open-loop.ts";
import { REPORT_MS, USERS } from "./options.ts";
import type { ProcessSampler, Usage } from "./processes.ts";

export type Row = Omit<RateResult, "placed"> & {
  phase: string;
  processes: Record<string, Usage>;
  /** CPU milliseconds per settled order: the runtime's (serverless-offline, its functions and the event source) and the two databases'. */
  cpuMsPerOrder: { runtime: number; databases: number; broker: number; zipkin: number; loadGenerator: number };
  cost: Cost;
  correct: boolean;
  lost: number;
  chargedTwice: number;
};

/** What a phase runs on: the stack (none when the bench drives one already running), its shoppers and meters. */
export interface PhaseSetting {
  stack: RunningStack | undefined;
  users: string[];
  shoppers: Shoppers;
  sampler: ProcessSampler;
  invocations: InvocationLog;
}

export function printTableHeader(): void {
  const header =
    "| phase | offered/s | accepted/s | settled/s | POST p50/p99 ms | order->frame p50/p90/p99/max ms | slowest answer ms (> 1 s) | CPU ms/order runtime / databases | invocations/order | USD/M orders | queued at end | errors | correct |";
  console.log(`\n${header}\n|${"---|".repeat(13)}`);
}

const perOrder = (cpuSeconds: number | undefined, orders: number) =>
  orders > 0 ? Math.round(((cpuSeconds ?? 0) * 1000 * 10) / orders) / 10 : 0;

export async function measurePhase(
  on: PhaseSetting,
  phase: string,
  rate: number,
  seconds: number,
  connections: RateResult["connections"],
): Promise<Row> {
  on.invocations.drain(); // what came before this run is not its cost
  await on.sampler.begin();
  const { placed, ...result } = await on.shoppers.offer(rate, seconds, { connections });
  const processes = await on.sampler.end();
  // The functions report once a second: wait for what the last second of the run did.
  await new Promise((resolve) => setTimeout(resolve, REPORT_MS + 500));
  const cost = costOf(on.invocations.drain(), {
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
  const money = await checkMoneyOf(on, placed);
  return {
    phase,
    ...result,
    processes,
    cpuMsPerOrder,
    cost,
    correct: money.correct,
    lost: money.lost,
    chargedTwice: money.chargedTwice,
  };
}

async function checkMoneyOf(on: PhaseSetting, placed: RateResult["placed"]) {
  if (!on.stack) return { correct: true, lost: 0, chargedTwice: 0 };
  const money = await checkMoney(on.stack.ordersDatabaseUrl, on.stack.paymentsDatabaseUrl, placed, on.users);
  return {
    correct: money.lost === 0 && money.chargedTwice === 0 && money.unbalanced.length === 0,
    lost: money.lost,
    chargedTwice: money.chargedTwice,
  };
}

export function printRow(row: Row, rate: number, connections: RateResult["connections"]): void {
  const { phase, cost, cpuMsPerOrder } = row;
  const s = row.settleMs;
  const invocationsPerOrder = Math.round(cost.rows.reduce((n, r) => n + r.invocationsPer1000, 0)) / 1000;
  console.log(
    `| ${phase}${connections === "unbounded" ? " (a connection per request)" : ""} | ${rate} | ${row.acceptedPerSecond} | ${row.settledPerSecond} | ${row.postMs.p50}/${row.postMs.p99} | ${s.p50}/${s.p90}/${s.p99}/${s.max} | ${row.slowestAnswerMs} (${row.answersOverOneSecond}) | ${cpuMsPerOrder.runtime} / ${cpuMsPerOrder.databases} | ${invocationsPerOrder} | ${cost.usdPerMillionOrders.total} | ${row.queuedAtEnd} | ${JSON.stringify(row.errors)} | ${row.correct ? "yes" : `NO: lost ${row.lost}, charged twice ${row.chargedTwice}`} |`,
  );
}

/** Whether a row held: correct, nothing left queued, p99 under a second, no errors. */
export const holds = (row: Row) =>
  row.correct &&
  row.queuedAtEnd === 0 &&
  (row.settleMs.p99 ?? Infinity) < 1_000 &&
  Object.keys(row.errors).length === 0;
