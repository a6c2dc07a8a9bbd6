import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";

/**
 * What the orders of a benchmark run would cost on AWS, from what the functions counted
 * (INVOCATION_REPORT_MS: invocations and billed milliseconds per function) and what the load
 * generator sent and received. The local durations are those of a 2-core machine running
 * everything at once: an estimate of AWS's, not a measurement of it.
 */

/**
 * Public list prices in US East (N. Virginia), the region serverless.yml deploys to unless told
 * otherwise; x86_64 Lambda, first pricing tiers. Read on 2026-12-03 from aws.amazon.com/lambda/pricing
 * and aws.amazon.com/api-gateway/pricing.
 */
export const PRICES = {
  region: "us-east-1",
  readOn: "2026-12-03",
  lambdaPerMillionRequests: 0.2,
  lambdaPerGbSecond: 0.0000166667,
  httpApiPerMillionRequests: 1.0,
  websocketPerMillionMessages: 1.0,
  websocketPerMillionConnectionMinutes: 0.25,
} as const;

export interface InvocationTotals {
  count: number;
  ms: number;
  billed_ms: number;
}

/** Adds up the functions' "invocations" log lines and the consumers' "batch handled" lines. */
export class InvocationLog {
  private totals = new Map<string, InvocationTotals>();
  private batches = new Map<string, { batches: number; records: number }>();

  /** Takes one line of the stack's output; anything but the two kinds of lines is ignored. */
  take(line: string): void {
    if (!line.startsWith("{")) return;
    if (!line.includes('"msg":"invocations"') && !line.includes('"msg":"batch handled"')) return;
    let entry: { msg?: string; invocations?: Record<string, InvocationTotals>; topic?: string; records?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.msg === "invocations" && entry.invocations) {
      for (const [name, t] of Object.entries(entry.invocations)) {
        const key = name.replace(/^.*-dev-/, "");
        const sum = this.totals.get(key) ?? { count: 0, ms: 0, billed_ms: 0 };
        this.totals.set(key, { count: sum.count + t.count, ms: sum.ms + t.ms, billed_ms: sum.billed_ms + t.billed_ms });
      }
    } else if (entry.msg === "batch handled" && entry.topic && typeof entry.records === "number") {
      const sum = this.batches.get(entry.topic) ?? { batches: 0, records: 0 };
      this.batches.set(entry.topic, { batches: sum.batches + 1, records: sum.records + entry.records });
    }
  }

  /** What was counted since the last call, and a fresh start. */
  drain(): {
    invocations: Record<string, InvocationTotals>;
    batches: Record<string, { batches: number; records: number }>;
  } {
    const drained = { invocations: Object.fromEntries(this.totals), batches: Object.fromEntries(this.batches) };
    this.totals = new Map();
    this.batches = new Map();
    return drained;
  }
}

/**
 * Each function's memory: the provider's (serverless.yml), which every function has; the manifest
 * (shared/contract/manifest.ts), which serverless.yml's functions are made from, gives none its own.
 */
function functionMemoryMb(): number {
  const service = parseYaml(readFileSync(new URL("../../serverless.yml", import.meta.url), "utf8")) as {
    provider: { memorySize?: number };
  };
  return service.provider.memorySize ?? 1024;
}

export interface CostRow {
  function: string;
  memoryMb: number;
  invocationsPer1000: number;
  secondsPer1000: number;
  gbSecondsPer1000: number;
}

export interface Cost {
  orders: number;
  rows: CostRow[];
  batchSizes: Record<string, number>;
  httpRequestsPer1000: number;
  websocketMessagesPer1000: number;
  connectionMinutesPer1000: number;
  usdPerMillionOrders: {
    lambdaRequests: number;
    lambdaDuration: number;
    httpApi: number;
    websocket: number;
    total: number;
  };
}

/**
 * Per 1000 settled orders: each function's invocations, billed seconds and GB-seconds, the API
 * Gateway requests, messages and connection minutes; from them, USD per million orders.
 */
export function costOf(
  counted: ReturnType<InvocationLog["drain"]>,
  traffic: { orders: number; httpRequests: number; websocketMessages: number; connectionMinutes: number },
): Cost {
  const per1000 = (n: number) => (traffic.orders > 0 ? (n * 1000) / traffic.orders : 0);
  const memoryMb = functionMemoryMb();
  const rows = Object.entries(counted.invocations)
    .map(([name, t]) => {
      return {
        function: name,
        memoryMb,
        invocationsPer1000: per1000(t.count),
        secondsPer1000: per1000(t.billed_ms / 1000),
        gbSecondsPer1000: per1000((t.billed_ms / 1000) * (memoryMb / 1024)),
      };
    })
    .sort((a, b) => b.gbSecondsPer1000 - a.gbSecondsPer1000);
  const invocations = rows.reduce((n, r) => n + r.invocationsPer1000, 0);
  const gbSeconds = rows.reduce((n, r) => n + r.gbSecondsPer1000, 0);
  const httpRequestsPer1000 = per1000(traffic.httpRequests);
  const websocketMessagesPer1000 = per1000(traffic.websocketMessages);
  const connectionMinutesPer1000 = per1000(traffic.connectionMinutes);
  // Per 1000 orders times 1000 is per million orders.
  const usd = {
    lambdaRequests: (invocations * 1000 * PRICES.lambdaPerMillionRequests) / 1e6,
    lambdaDuration: gbSeconds * 1000 * PRICES.lambdaPerGbSecond,
    httpApi: (httpRequestsPer1000 * 1000 * PRICES.httpApiPerMillionRequests) / 1e6,
    websocket:
      (websocketMessagesPer1000 * 1000 * PRICES.websocketPerMillionMessages) / 1e6 +
      (connectionMinutesPer1000 * 1000 * PRICES.websocketPerMillionConnectionMinutes) / 1e6,
    total: 0,
  };
  usd.total = usd.lambdaRequests + usd.lambdaDuration + usd.httpApi + usd.websocket;
  const batchSizes = Object.fromEntries(
    Object.entries(counted.batches).map(([topic, b]) => [topic, round(b.records / Math.max(1, b.batches), 2)]),
  );
  return {
    orders: traffic.orders,
    rows,
    batchSizes,
    httpRequestsPer1000,
    websocketMessagesPer1000,
    connectionMinutesPer1000,
    usdPerMillionOrders: mapValues(usd, (v) => round(v, 2)),
  };
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const mapValues = <T extends Record<string, number>>(o: T, f: (v: number) => number) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)])) as T;

/** The cost as a Markdown table, as the README shows it. */
export function costTable(cost: Cost): string {
  const lines = [
    `Per 1000 settled orders (${cost.orders} orders counted); prices: ${PRICES.region}, read ${PRICES.readOn}.`,
    "",
    "| function | memory MB | invocations | billed s | GB-s |",
    "|---|---|---|---|---|",
    ...cost.rows.map(
      (r) =>
        `| ${r.function} | ${r.memoryMb} | ${round(r.invocationsPer1000, 1)} | ${round(r.secondsPer1000, 2)} | ${round(r.gbSecondsPer1000, 3)} |`,
    ),
    `| **all functions** | | **${round(
      cost.rows.reduce((n, r) => n + r.invocationsPer1000, 0),
      1,
    )}** | **${round(
      cost.rows.reduce((n, r) => n + r.secondsPer1000, 0),
      2,
    )}** | **${round(
      cost.rows.reduce((n, r) => n + r.gbSecondsPer1000, 0),
      3,
    )}** |`,
    "",
    `HTTP API requests ${round(cost.httpRequestsPer1000, 1)}, WebSocket messages ${round(cost.websocketMessagesPer1000, 1)}, connection minutes ${round(cost.connectionMinutesPer1000, 2)}; records per consumer batch: ${
      Object.entries(cost.batchSizes)
        .map(([t, n]) => `${t} ${n}`)
        .join(", ") || "-"
    }.`,
    "",
    `USD per million orders: Lambda requests ${cost.usdPerMillionOrders.lambdaRequests}, Lambda duration ${cost.usdPerMillionOrders.lambdaDuration}, HTTP API ${cost.usdPerMillionOrders.httpApi}, WebSocket ${cost.usdPerMillionOrders.websocket}; **total ${cost.usdPerMillionOrders.total}**.`,
  ];
  return lines.join("\n");
}
