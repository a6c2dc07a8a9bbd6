import { randomUUID } from "node:crypto";
import pg from "pg";
import type { As, ShopClient } from "./shop-client.ts";

export interface TrafficReport {
  sent: number;
  accepted: number;
  refused: number;
  /** What the refusals said, e.g. { "503": 12 }. */
  refusals: Record<string, number>;
}

interface Placed {
  orderId: string;
  userId: string;
  amount: number;
}

/**
 * Shoppers placing orders at a steady rate, open loop (each order sent on schedule, whatever the
 * answers), each request bounded in time. Keeps every accepted order for the checks.
 */
export class Traffic {
  /** The shoppers' ids (for the money checks). */
  readonly users: string[] = [];
  private readonly shoppers: As[] = [];
  readonly placed: Placed[] = [];
  private readonly report: TrafficReport = { sent: 0, accepted: 0, refused: 0, refusals: {} };
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  /**
   * With `shop`, the shoppers are signed-up users of the stack's user pool and send their tokens;
   * without, the stack runs with AUTH=off and they are bare user ids.
   */
  constructor(
    private readonly apiUrl: string,
    private readonly perSecond = 20,
    private readonly shop?: ShopClient,
  ) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    as?: As,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(as && typeof as !== "string" ? { authorization: `Bearer ${as.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  /** Opens accounts with a balance that pays for some of their orders and refuses the rest. */
  async openAccounts(count: number, balance: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const user: As = this.shop ? await this.shop.signUp() : randomUUID();
      const named = typeof user === "string" ? { user_id: user } : {};
      if ((await this.request("POST", "/api/payments/create_account", named, user)).status !== 201)
        throw new Error("account not opened");
      if ((await this.request("POST", "/api/payments/deposit", { ...named, amount: balance }, user)).status !== 200)
        throw new Error("deposit refused");
      this.shoppers.push(user);
      this.users.push(typeof user === "string" ? user : user.id);
    }
  }

  start(): void {
    let next = 0;
    this.timer = setInterval(() => {
      const index = next++ % this.shoppers.length;
      const [shopper, userId] = [this.shoppers[index]!, this.users[index]!];
      const amount = 1 + (next % 7);
      this.report.sent += 1;
      const named = typeof shopper === "string" ? { user_id: shopper } : {};
      const sending = this.request(
        "POST",
        "/api/orders",
        { ...named, amount, description: `fault traffic ${next}` },
        shopper,
      )
        .then((answer) => {
          if (answer.status === 201) {
            this.report.accepted += 1;
            this.placed.push({ orderId: String(answer.body.order_id), userId, amount });
          } else this.refuse(String(answer.status));
        })
        .catch((error: unknown) => this.refuse(error instanceof Error ? error.name : "error"))
        .finally(() => this.inFlight.delete(sending));
      this.inFlight.add(sending);
    }, 1000 / this.perSecond);
  }

  private refuse(why: string): void {
    this.report.refused += 1;
    this.report.refusals[why] = (this.report.refusals[why] ?? 0) + 1;
  }

  async stop(): Promise<TrafficReport> {
    clearInterval(this.timer);
    await Promise.all(this.inFlight);
    return { ...this.report, refusals: { ...this.report.refusals } };
  }
}

export interface MoneyCheck {
  settled: number;
  lost: number;
  chargedTwice: number;
  /** Users whose balance is not their deposits minus their FINISHED orders. */
  unbalanced: string[];
}

/**
 * What the databases say about the accepted orders: how many are final, how many never got there,
 * how many were charged more than once, and whether every balance adds up.
 */
export async function checkMoney(
  ordersUrl: string,
  paymentsUrl: string,
  placed: Placed[],
  users: string[],
): Promise<MoneyCheck> {
  const orders = new pg.Client({ connectionString: ordersUrl });
  const payments = new pg.Client({ connectionString: paymentsUrl });
  await Promise.all([orders.connect(), payments.connect()]);
  try {
    const ids = placed.map((p) => p.orderId);
    const { rows: statuses } = await orders.query<{ id: string; status: string }>(
      "SELECT id, status FROM orders WHERE id = ANY($1)",
      [ids],
    );
    const final = statuses.filter((s) => s.status !== "NEW");
    const { rows: charges } = await payments.query<{ order_id: string; n: number }>(
      "SELECT order_id, count(*)::int AS n FROM ledger WHERE kind = 'CHARGE' AND order_id = ANY($1) GROUP BY order_id",
      [ids],
    );
    const { rows: balances } = await payments.query<{ user_id: string; balance: number; deposits: number }>(
      `SELECT a.user_id, a.balance::int, (SELECT coalesce(sum(amount), 0)::int FROM ledger l WHERE l.user_id = a.user_id AND kind = 'DEPOSIT') AS deposits
         FROM accounts a WHERE a.user_id = ANY($1)`,
      [users],
    );
    const { rows: finished } = await orders.query<{ user_id: string; spent: number }>(
      "SELECT user_id, coalesce(sum(amount), 0)::int AS spent FROM orders WHERE status = 'FINISHED' AND user_id = ANY($1) GROUP BY user_id",
      [users],
    );
    const spent = new Map(finished.map((f) => [f.user_id, f.spent]));
    return {
      settled: final.length,
      lost: placed.length - final.length,
      chargedTwice: charges.filter((c) => c.n > 1).length,
      unbalanced: balances.filter((b) => b.balance !== b.deposits - (spent.get(b.user_id) ?? 0)).map((b) => b.user_id),
    };
  } finally {
    await Promise.all([orders.end(), payments.end()]);
  }
}
