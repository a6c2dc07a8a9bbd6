import { randomUUID } from "node:crypto";
import WebSocket from "ws";

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A shopper talking to the stack over HTTP and WebSocket only, as the browser does. */
export class ShopClient {
  constructor(
    readonly apiUrl: string,
    readonly wsUrl: string,
  ) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  }

  createAccount(userId: string) {
    return this.request("POST", "/api/payments/create_account", { user_id: userId });
  }
  deposit(userId: string, amount: number, idempotencyKey?: string) {
    return this.request("POST", "/api/payments/deposit", { user_id: userId, amount }, idempotencyKey ? { "idempotency-key": idempotencyKey } : {});
  }
  balance(userId: string) {
    return this.request<{ balance: number }>("GET", `/api/payments/balance?user_id=${userId}`);
  }
  placeOrder(userId: string, amount: number, description = "test order") {
    return this.request<{ order_id: string; status: string }>("POST", "/api/orders", { user_id: userId, amount, description });
  }
  order(orderId: string) {
    return this.request<{ id: string; status: string; reason: string | null }>("GET", `/api/orders/${orderId}`);
  }
  orders(userId: string) {
    return this.request<Array<{ id: string; status: string }>>("GET", `/api/orders?user_id=${userId}`);
  }

  /** Opens a socket for the user and collects every frame it receives. */
  async connect(userId: string): Promise<Socket> {
    const socket = new Socket(new WebSocket(`${this.wsUrl}?user_id=${userId}`));
    await socket.opened;
    return socket;
  }
}

export type Frame = { type: string } & Record<string, unknown>;

export class Socket {
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.waiters.splice(0).forEach((wake) => wake());
    });
  }

  /** Resolves with the first frame (already received or still to come) that matches. */
  async waitFor(match: (frame: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export const newUserId = (): string => randomUUID();

/** Polls until `check` returns a value, for state that settles asynchronously. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
