/**
 * Where an order's time goes, hop by hop, read from the traces the run left in Zipkin: for each
 * order, the gap between one span's end and the next one's start is a wait (a relay waking up, the
 * event source fetching and invoking), a span's own length is work. Printed as a table of medians
 * and p99s, it names the next bottleneck from the orders themselves.
 */

/** A span as Zipkin's API answers it: times in microseconds, names lower-cased. */
interface ZipkinSpan {
  name: string;
  timestamp?: number;
  duration?: number;
}

interface Hop {
  what: string;
  /** Milliseconds, or undefined when the trace lacks a span of the hop. */
  of(span: (name: string) => { start: number; end: number } | undefined): number | undefined;
}

const between =
  (from: string, fromEdge: "start" | "end", to: string, toEdge: "start" | "end"): Hop["of"] =>
  (span) => {
    const a = span(from);
    const b = span(to);
    return a && b ? (b[toEdge] - a[fromEdge]) / 1000 : undefined;
  };
const length = (name: string): Hop["of"] => between(name, "start", name, "end");

/** The order's path, in order: work (a span) and waits (between spans). */
const HOPS: Hop[] = [
  { what: "POST /api/orders (the request)", of: length("post /api/orders") },
  {
    what: "  wait: commit -> orders relay publishing",
    of: between("orders transaction", "end", "send orders.created", "start"),
  },
  { what: "orders relay: publish orders.created", of: length("send orders.created") },
  {
    what: "  wait: event source -> charge",
    of: between("send orders.created", "end", "process orders.created", "start"),
  },
  { what: "charge (its batch's transaction)", of: length("process orders.created") },
  {
    what: "  wait: commit -> payments relay publishing",
    of: between("process orders.created", "end", "send payments.processed", "start"),
  },
  { what: "payments relay: publish payments.processed", of: length("send payments.processed") },
  {
    what: "  wait: event source -> status change",
    of: between("send payments.processed", "end", "process payments.processed", "start"),
  },
  { what: "status change (its batch's transaction)", of: length("process payments.processed") },
  {
    what: "  wait: commit -> push sent",
    of: between("process payments.processed", "end", "push order_updated", "end"),
  },
  { what: "whole order: POST -> status pushed", of: between("post /api/orders", "start", "push order_updated", "end") },
];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const ms = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1));

/** The hop table of the given traces (each an array of spans, as Zipkin's /api/v2/traces answers). */
export function hopTable(traces: ZipkinSpan[][]): string {
  const rows = HOPS.map((hop) => {
    const values = traces
      .map((spans) =>
        hop.of((name) => {
          const found = spans.find((s) => s.name === name && s.timestamp !== undefined);
          return found ? { start: found.timestamp!, end: found.timestamp! + (found.duration ?? 0) } : undefined;
        }),
      )
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    return `| ${hop.what} | ${values.length} | ${ms(percentile(values, 50))} | ${ms(percentile(values, 99))} |`;
  });
  return ["| hop | orders | p50 ms | p99 ms |", "|---|---|---|---|", ...rows].join("\n");
}

/** The traces of orders placed in [since, until] (epoch ms), as Zipkin holds them; at most `limit`. */
export async function tracesFrom(
  zipkinUrl: string,
  createOrderService: string,
  since: number,
  until: number,
  limit = 2_000,
): Promise<ZipkinSpan[][]> {
  const query = new URLSearchParams({
    serviceName: createOrderService.toLowerCase(),
    spanName: "post /api/orders",
    endTs: String(until),
    lookback: String(until - since),
    limit: String(limit),
  });
  const response = await fetch(new URL(`/api/v2/traces?${query}`, zipkinUrl), { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`Zipkin answered ${response.status}`);
  return (await response.json()) as ZipkinSpan[][];
}

/**
 * The hop table of the orders placed in [since, until], once Zipkin holds their spans: they leave
 * in one-second batches, so it reads until two reads a second apart find as many traces.
 */
export async function settledHopTable(
  zipkinUrl: string,
  createOrderService: string,
  since: number,
  until: number,
): Promise<string> {
  let traces = await tracesFrom(zipkinUrl, createOrderService, since, until);
  for (let reads = 0; reads < 15; reads += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const again = await tracesFrom(zipkinUrl, createOrderService, since, until);
    const settled = again.length === traces.length;
    traces = again;
    if (settled) break;
  }
  return hopTable(traces);
}
