/** The bench's summary: what the rows add up to (summary.json, latency.svg) and its printed form. */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { costTable } from "./cost.ts";
import { HOLD, OUT, RATES, TRACES_RATE, USERS } from "./options.ts";
import type { databaseLimit } from "./pgbench.ts";
import type { Row } from "./phase.ts";
import { latencyPlot } from "./plot.ts";

type DatabaseLimit = Awaited<ReturnType<typeof databaseLimit>>;
export type Summary = ReturnType<typeof summarise>;

export function summarise(rows: Row[], sustained: number, limit: DatabaseLimit, hops: string | undefined) {
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
  return {
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
}

export async function writeSummary(summary: Summary): Promise<void> {
  await writeFile(path.join(OUT, "summary.json"), JSON.stringify(summary, null, 2));
  await writeFile(path.join(OUT, "latency.svg"), latencyPlot(summary.rows.filter((r) => r.phase === "series")));
}

export function printSummary(summary: Summary): void {
  const { rows, hops, tracingCost } = summary;
  const sustained = summary.sustainedOrdersPerSecond;
  const limit = summary.databaseLimit;
  const overload = rows.find((r) => r.phase === "overload");
  const flood = rows.find((r) => r.phase === "flood");
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
}
