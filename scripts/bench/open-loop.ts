import http from "node:http";
import WebSocket from "ws";
import { post, ReusedConnectionClosed } from "../../local/core/http-post.ts";

export interface RateResult {
  offered: number;
  seconds: number;
  sent: number;
  accepted: number;
  acceptedPerSecond: number;
  settled: number;
  settledPerSecond: number;
  /** Accepted but not settled when the drain gave up. */
  queuedAtEnd: number;
  errors: Record<string, number>;
  postMs: Percentiles;
  settleMs: Percentiles;
  /** The slowest answer to a refusal (429/503): refusing must be quick. */
  refusalMaxMs: number | null;
  /** The slowest answer of any kind, and how many took longer than a second (none may hang). */
  slowestAnswerMs: number | null;
  answersOverOneSecond: number;
  /** WebSocket frames the shoppers received during the run (API Gateway bills each as a message). */
  framesReceived: number;
  /** How the orders were sent: over at most 256 kept-alive connections, or a new connection each. */
  connections: "kept-alive" | "unbounded";
  placed: Array<{ orderId: string; userId: string; amount: number }>;
}

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: null, p90: null, p99: null, max: null };
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(sorted[sorted.length - 1]! * 10) / 10 };
}

/**
 * One shopper per user with an open WebSocket; orders are offered open loop: each is sent at its
 * scheduled time whatever happened to the earlier ones, and timed from that scheduled time (so a
 * slow server cannot hide its backlog by slowing the sender down).
 */
export class Shoppers {
  private readonly sockets: WebSocket[] = [];
  /** order id -> when its final frame arrived */
  private readonly finals = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  private frames = 0;

  /**
   * Kept-alive connections and node:http rather than fetch: on two cores the load generator's own
   * CPU is taken from the shop, and fetch costs several times more per request.
   */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

  constructor(
    private readonly apiUrl: string,
    private readonly wsUrl: string,
    readonly users: string[],
  ) {}

  async open(): Promise<void> {
    for (const user of this.users) {
      const socket = new WebSocket(`${this.wsUrl}?user_id=${user}`);
      await new Promise<void>(
        (resolve, reject) => (socket.once("open", () => resolve()), socket.once("error", reject)),
      );
      socket.on("message", (data) => {
        this.frames += 1;
        const frame = JSON.parse(data.toString()) as { type: string; order_id?: string; status?: string };
        if (frame.type !== "ORDER_UPDATED" || !frame.order_id || frame.status === "NEW") return;
        const at = performance.now();
        const waiter = this.waiters.get(frame.order_id);
        if (waiter) waiter(at);
        else this.finals.set(frame.order_id, at);
      });
      this.sockets.push(socket);
    }
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
    this.agent.destroy();
    this.unboundedAgent.destroy();
  }

  /**
   * A new connection for every request, as clients across the internet open them: nothing in the
   * load generator holds them back (no cap of 256, no reuse).
   */
  private readonly unboundedAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

  /** POSTs an order; a request whose kept-alive connection the server had just closed is sent again. */
  private async postOrder(body: string, agent: http.Agent): Promise<{ status: number; body: string }> {
    const url = `${this.apiUrl}/api/orders`;
    const options = { agent, timeoutMs: 30_000 };
    try {
      return await post(url, body, options);
    } catch (error) {
      if (!(error instanceof ReusedConnectionClosed)) throw error;
      return post(url, body, options);
    }
  }

  private settled(orderId: string): Promise<number> {
    const seen = this.finals.get(orderId);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.set(orderId, resolve));
  }

  async offer(
    rate: number,
    seconds: number,
    options: { connections?: RateResult["connections"]; drainMs?: number } = {},
  ): Promise<RateResult> {
    const connections = options.connections ?? "kept-alive";
    const agent = connections === "unbounded" ? this.unboundedAgent : this.agent;
    const drainMs = options.drainMs ?? 30_000;
    const framesBefore = this.frames;
    let slowestAnswerMs: number | null = null;
    let answersOverOneSecond = 0;
    const errors: Record<string, number> = {};
    const postMs: number[] = [];
    const settleMs: number[] = [];
    const placed: RateResult["placed"] = [];
    let refusalMaxMs: number | null = null;
    let sent = 0;
    const settling: Array<Promise<void>> = [];
    const inFlight = new Set<Promise<void>>();
    const start = performance.now();
    const total = Math.round(rate * seconds);
    let lastSettled = start;

    const send = (i: number) => {
      const scheduled = start + (i * 1000) / rate;
      const user = this.users[i % this.users.length]!;
      sent += 1;
      const request = this.postOrder(JSON.stringify({ user_id: user, amount: 1, description: `bench ${i}` }), agent)
        .then((response) => {
          const answeredMs = performance.now() - scheduled;
          slowestAnswerMs = Math.max(slowestAnswerMs ?? 0, answeredMs);
          if (answeredMs > 1_000) answersOverOneSecond += 1;
          const body = parsed(response.body);
          if (response.status !== 201 || !body.order_id) {
            errors[response.status] = (errors[response.status] ?? 0) + 1;
            if (response.status === 429 || response.status === 503)
              refusalMaxMs = Math.max(refusalMaxMs ?? 0, answeredMs);
            return;
          }
          postMs.push(answeredMs);
          placed.push({ orderId: body.order_id, userId: user, amount: 1 });
          const orderId = body.order_id;
          settling.push(
            this.settled(orderId).then((at) => {
              settleMs.push(at - scheduled);
              lastSettled = Math.max(lastSettled, at);
              this.waiters.delete(orderId);
              this.finals.delete(orderId);
            }),
          );
        })
        .catch((error: unknown) => {
          const name = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.name) : "error";
          errors[name] = (errors[name] ?? 0) + 1;
        })
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    };

    // Sends whatever is due, then sleeps until the next send is (at least 1 ms: a timer each
    // millisecond at high rates is cheaper than one per order, and the schedule, not the send, is timed).
    for (let i = 0; i < total;) {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (i < due) send(i++);
      const nextAt = start + (i * 1000) / rate;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, nextAt - performance.now())));
    }
    await Promise.all(inFlight);
    await Promise.race([Promise.all(settling), new Promise((resolve) => setTimeout(resolve, drainMs))]);
    const elapsed = (lastSettled - start) / 1000;
    return {
      offered: rate,
      seconds,
      sent,
      accepted: placed.length,
      acceptedPerSecond: Math.round((placed.length / seconds) * 10) / 10,
      settled: settleMs.length,
      settledPerSecond: Math.round((settleMs.length / Math.max(elapsed, seconds)) * 10) / 10,
      queuedAtEnd: placed.length - settleMs.length,
      errors,
      postMs: percentiles(postMs),
      settleMs: percentiles(settleMs),
      refusalMaxMs,
      slowestAnswerMs: slowestAnswerMs === null ? null : Math.round(slowestAnswerMs),
      answersOverOneSecond,
      framesReceived: this.frames - framesBefore,
      connections,
      placed,
    };
  }
}

function parsed(body: string): { order_id?: string } {
  try {
    return JSON.parse(body) as { order_id?: string };
  } catch {
    return {};
  }
}
