import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import { WebSocket } from "ws";
import type { RunningStack } from "../../local/stack.ts";
import { eventually, newUserId, ShopClient, Socket } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";
import { testPool } from "../support/database.ts";

const USERS = 200;
const TABS = 5;
const ROUNDS = 3;
const DEPOSITORS = 50;
const FRAME_WITHIN_MS = 2_000;

/** Runs `work` on every item, at most `limit` at once. */
async function inBatches<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    }),
  );
  return results;
}

/**
 * Opens a socket as the page does: a handshake the API refuses for now (429 or 503, with
 * Retry-After) is tried again after the time it asks for, with jitter; anything else fails.
 */
async function connectAsThePageDoes(wsUrl: string, userId: string, refusals: Map<number, number>): Promise<Socket> {
  for (let attempt = 1; ; attempt++) {
    const ws = new WebSocket(`${wsUrl}?user_id=${userId}`);
    const refused = new Promise<{ status: number; retryAfter: number } | undefined>((resolve) => {
      ws.once("open", () => resolve(undefined));
      ws.once("unexpected-response", (_request, response) => {
        resolve({ status: response.statusCode ?? 0, retryAfter: Number(response.headers["retry-after"] ?? 1) });
        response.resume();
        ws.terminate();
      });
    });
    const socket = new Socket(ws);
    socket.opened.catch(() => undefined); // a refusal is answered below
    const refusal = await refused;
    if (!refusal) return socket;
    refusals.set(refusal.status, (refusals.get(refusal.status) ?? 0) + 1);
    if (![429, 503].includes(refusal.status) || attempt >= 10)
      throw new Error(`handshake refused with ${refusal.status} (attempt ${attempt})`);
    await new Promise((resolve) => setTimeout(resolve, refusal.retryAfter * 1_000 * (0.5 + Math.random())));
  }
}

describe("1000 WebSocket handshakes at once, three times in a row (200 users x 5 tabs, AUTH=off)", () => {
  let stack: RunningStack;
  let shop: ShopClient;
  let orders: pg.Pool;
  const users = Array.from({ length: USERS }, () => newUserId());

  before(async () => {
    stack = await startTestStack("sockets", { env: { AUTH: "off" } });
    shop = new ShopClient(stack.apiUrl, stack.wsUrl);
    orders = testPool(stack.ordersDatabaseUrl, 2);
    const created = await inBatches(users, 20, (user) => shop.createAccount(user));
    assert.deepEqual(
      created.map((answer) => answer.status),
      users.map(() => 201),
    );
  });
  after(async () => {
    await orders?.end();
    await stack?.stop();
  });

  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: every socket opens, and 50 deposits reach all 250 of their tabs within 2 s`, async () => {
      const refusals = new Map<number, number>();
      const started = performance.now();
      const sockets = await Promise.all(
        users.flatMap((user) =>
          Array.from({ length: TABS }, async () => ({
            user,
            socket: await connectAsThePageDoes(stack.wsUrl, user, refusals),
          })),
        ),
      );
      const openMs = performance.now() - started;
      try {
        const open = await orders.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM websocket_connections WHERE user_id = ANY($1::uuid[])",
          [users],
        );
        assert.equal(open.rows[0]!.n, USERS * TABS, "every open socket is known to the pushes");
        console.log(
          `  round ${round}: ${sockets.length} sockets open in ${openMs.toFixed(0)} ms; refused and retried: ${JSON.stringify(Object.fromEntries(refusals))}`,
        );

        const depositors = users.slice(0, DEPOSITORS);
        const amount = round * 10;
        const deposited = await Promise.all(depositors.map((user) => shop.deposit(user, amount)));
        assert.deepEqual(
          deposited.map((answer) => answer.status),
          depositors.map(() => 200),
        );
        const answeredAt = performance.now();
        const late: string[] = [];
        await Promise.all(
          sockets
            .filter(({ user }) => depositors.includes(user))
            .map(({ user, socket }) =>
              socket
                .waitFor(
                  (f) =>
                    f.type === "BALANCE_UPDATED" && f.balance === deposited[depositors.indexOf(user)]!.body.balance,
                  FRAME_WITHIN_MS,
                )
                .catch(() => void late.push(user)),
            ),
        );
        const framesMs = performance.now() - answeredAt;
        assert.deepEqual(
          late,
          [],
          `${late.length} of ${DEPOSITORS * TABS} tabs got no frame within ${FRAME_WITHIN_MS} ms`,
        );
        console.log(`  round ${round}: ${DEPOSITORS * TABS} frames in ${framesMs.toFixed(0)} ms`);
      } finally {
        for (const { socket } of sockets) socket.close();
      }
      // The next round's tabs count against the same 5 per user: their $disconnect must have come.
      await eventually(
        async () => {
          const left = await orders.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM websocket_connections WHERE user_id = ANY($1::uuid[])",
            [users],
          );
          return left.rows[0]!.n === 0 ? true : undefined;
        },
        30_000,
        "every closed socket forgotten",
      );
    });
  }
});
