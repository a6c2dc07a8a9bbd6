/** What the trace tests share: the stack they run on, and reading its traces back from Zipkin. */
import assert from "node:assert/strict";
import type { RunningStack } from "../../../local/stack.ts";
import { eventually, newUserId, type ShopClient, type Socket } from "../../support/shop-client.ts";

/** A span as Zipkin's API answers it (names and services lower-cased by Zipkin). */
export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** One log line of a function, as the functions write them (JSON). */
export interface LogLine {
  msg: string;
  correlation_id?: string;
  trace_id?: string;
  span_id?: string;
  topic?: string;
  fn?: string;
}

/** The suite's one stack, read once its `before` has run. */
export interface TracesStack {
  readonly stack: RunningStack;
  readonly shop: ShopClient;
  /** Zipkin's API, under the stack's trace viewer. */
  readonly zipkinApi: string;
  /** The functions' log lines, as they printed them. */
  readonly logs: LogLine[];
}

export function tracesHelpers(t: TracesStack) {
  async function fundedUser(balance: number): Promise<{ user: string; socket: Socket }> {
    const { shop } = t;
    const user = newUserId();
    assert.equal((await shop.createAccount(user)).status, 201);
    assert.equal((await shop.deposit(user, balance)).status, 200);
    return { user, socket: await shop.connect(user) };
  }

  /** The traces Zipkin holds that have a span about this order. */
  async function tracesOf(orderId: string): Promise<ZipkinSpan[][]> {
    const { zipkinApi } = t;
    const query = new URLSearchParams({ annotationQuery: `order.id=${orderId}`, lookback: "3600000", limit: "10" });
    const response = await fetch(`${zipkinApi}traces?${query}`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(response.status, 200);
    return (await response.json()) as ZipkinSpan[][];
  }

  /** Waits until the order's one trace holds every span named, then returns it. */
  async function traceWith(orderId: string, names: string[], timeoutMs = 30_000): Promise<ZipkinSpan[]> {
    return eventually(
      async () => {
        const traces = await tracesOf(orderId);
        assert.ok(traces.length <= 1, `one trace per order, found ${traces.length}`);
        const spans = traces[0] ?? [];
        return names.every((name) => spans.some((s) => s.name === name)) ? spans : undefined;
      },
      timeoutMs,
      `the trace of ${orderId} to hold ${names.join(", ")}`,
    );
  }

  const one = (spans: ZipkinSpan[], name: string, where: (s: ZipkinSpan) => boolean = () => true): ZipkinSpan => {
    const found = spans.filter((s) => s.name === name && where(s));
    assert.equal(
      found.length,
      1,
      `one span "${name}" (found ${found.length}: ${JSON.stringify(spans.map((s) => s.name))})`,
    );
    return found[0]!;
  };
  const service = (fn: string) => `gozon-shop-dev-${fn}`.toLowerCase();
  const ok = (span: ZipkinSpan) => span.tags?.error === undefined;

  return { fundedUser, tracesOf, traceWith, one, service, ok };
}
