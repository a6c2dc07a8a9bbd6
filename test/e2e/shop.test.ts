import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { chromium, type Browser, type Page } from "playwright-core";
import type { RunningStack } from "../../local/stack.ts";
import { eventually, newUserId, ShopClient, type Socket } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";

describe("the shop end to end (real Kafka, two real Postgres, serverless-offline; HTTP and WebSocket only)", () => {
  let stack: RunningStack;
  let shop: ShopClient;

  before(async () => {
    stack = await startTestStack("shop");
    shop = new ShopClient(stack.apiUrl, stack.wsUrl);
  });
  after(async () => {
    await stack?.stop();
  });

  it("reports Kafka and both databases healthy", async () => {
    const health = await shop.request<{ status: string; checks: Record<string, { ok: boolean }> }>("GET", "/api/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "ok");
    assert.deepEqual(Object.keys(health.body.checks).sort(), ["kafka", "orders_db", "payments_db"]);
  });

  it("charges an affordable order, cancels an unaffordable one, and pushes both outcomes live", async () => {
    const user = newUserId();
    let socket: Socket | undefined;
    try {
      assert.equal((await shop.createAccount(user)).status, 201);
      socket = await shop.connect(user);
      const deposited = await shop.deposit(user, 1000);
      assert.equal(deposited.status, 200);
      assert.equal(deposited.body.balance, 1000);

      const paid = await shop.placeOrder(user, 300, "keyboard");
      assert.equal(paid.status, 201);
      assert.equal(paid.body.status, "NEW");
      const paidFrame = await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === paid.body.order_id);
      assert.equal(paidFrame.status, "FINISHED");
      assert.equal((await shop.balance(user)).body.balance, 700);

      const refused = await shop.placeOrder(user, 5000, "car");
      assert.equal(refused.status, 201);
      const refusedFrame = await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === refused.body.order_id);
      assert.equal(refusedFrame.status, "CANCELLED");
      assert.equal(refusedFrame.reason, "insufficient_funds");
      assert.equal((await shop.balance(user)).body.balance, 700);

      const one = await shop.order(paid.body.order_id);
      assert.equal(one.status, 200);
      assert.equal(one.body.status, "FINISHED");
      const all = await shop.orders(user);
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.body.map((o) => [o.id, o.status]),
        [
          [refused.body.order_id, "CANCELLED"],
          [paid.body.order_id, "FINISHED"],
        ],
      );
      const balanceFrames = socket.frames.filter((f) => f.type === "BALANCE_UPDATED").map((f) => f.balance);
      assert.ok(balanceFrames.includes(700), `a BALANCE_UPDATED frame with 700 arrives, got ${JSON.stringify(balanceFrames)}`);
    } finally {
      socket?.close();
    }
  });

  it("cancels an order of a user without an account, saying why", async () => {
    const user = newUserId();
    const socket = await shop.connect(user);
    try {
      const placed = await shop.placeOrder(user, 10);
      const frame = await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
      assert.equal(frame.status, "CANCELLED");
      assert.equal(frame.reason, "account_not_found");
    } finally {
      socket.close();
    }
  });

  it("refuses a WebSocket without a valid user id", async () => {
    await assert.rejects(shop.connect("not-a-uuid"), /Unexpected server response: 400/);
    await assert.rejects(new ShopClient(stack.apiUrl, stack.wsUrl.replace(/$/, "")).connect(""), /Unexpected server response: 400/);
  });

  it("pushes every update to every open tab of the user, and a tab opened later catches up from a snapshot", async () => {
    const user = newUserId();
    await shop.createAccount(user);
    const [first, second] = [await shop.connect(user), await shop.connect(user)];
    try {
      await shop.deposit(user, 500);
      for (const tab of [first, second]) await tab.waitFor((f) => f.type === "BALANCE_UPDATED" && f.balance === 500);
      const placed = await shop.placeOrder(user, 200, "lamp");
      for (const tab of [first, second]) {
        const frame = await tab.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
        assert.deepEqual([frame.status, frame.amount, frame.description], ["FINISHED", 200, "lamp"]);
        await tab.waitFor((f) => f.type === "BALANCE_UPDATED" && f.balance === 300);
      }
      const third = await shop.connect(user);
      try {
        third.ws.send(JSON.stringify({ action: "sync" }));
        const snapshot = await third.waitFor((f) => f.type === "SNAPSHOT");
        assert.equal(snapshot.balance, 300);
        assert.deepEqual((snapshot.orders as Array<{ id: string; status: string }>).map((o) => [o.id, o.status]), [[placed.body.order_id, "FINISHED"]]);
      } finally {
        third.close();
      }
    } finally {
      first.close();
      second.close();
    }
  });

  it("knows a new account's balance of 0 in a snapshot, before any money moved", async () => {
    const user = newUserId();
    await shop.createAccount(user);
    const socket = await shop.connect(user);
    try {
      const balance = await eventually(async () => {
        const seen = socket.frames.length;
        socket.ws.send(JSON.stringify({ action: "sync" }));
        const snapshot = await socket.waitFor((f) => f.type === "SNAPSHOT" && socket.frames.indexOf(f) >= seen);
        return snapshot.balance === null ? undefined : snapshot.balance;
      }, 10_000, "the opening balance announced");
      assert.equal(balance, 0);
    } finally {
      socket.close();
    }
  });

  it("forgets a connection that is gone when a push finds it, and the order still settles", async () => {
    const user = newUserId();
    await shop.createAccount(user);
    await shop.deposit(user, 100);
    const db = new pg.Pool({ connectionString: stack.ordersDatabaseUrl, max: 1 });
    try {
      // A connection the WebSocket API no longer knows: its $disconnect never arrived.
      await db.query("INSERT INTO websocket_connections (connection_id, user_id) VALUES ('vanished-connection', $1)", [user]);
      const live = await shop.connect(user);
      try {
        const placed = await shop.placeOrder(user, 60);
        const frame = await live.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
        assert.equal(frame.status, "FINISHED");
        await eventually(async () => {
          const { rowCount } = await db.query("SELECT 1 FROM websocket_connections WHERE connection_id = 'vanished-connection'");
          return rowCount === 0 ? true : undefined;
        }, 10_000, "the gone connection removed");
      } finally {
        live.close();
      }
    } finally {
      await db.end();
    }
  });

  describe("the page, driven in headless Chromium", () => {
    let browser: Browser;
    before(async () => {
      browser = await chromium.launch({
        executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    });
    after(async () => {
      await browser?.close();
    });

    const statusOf = (page: Page, orderId: string) => page.locator(`#orders [data-order-id="${orderId}"] .status`);

    /** A page where a new shopper generated an id, created the account and is connected. */
    async function newShopperPage(): Promise<{ page: Page; user: string }> {
      const page = await browser.newPage();
      await page.goto(stack.frontendUrl);
      await page.click("#generate-user");
      const user = await page.inputValue("#user-id");
      await page.click("#create-account");
      await page.click("#connect");
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      return { page, user };
    }

    it("creates an account, deposits, and shows one paid and one refused order without reloading", async () => {
      const { page, user } = await newShopperPage();
      await page.fill("#deposit-amount", "1000");
      await page.click("#deposit");
      await page.locator("#balance", { hasText: "1000" }).waitFor();

      await page.fill("#order-description", "teapot");
      await page.fill("#order-amount", "300");
      await page.click("#place-order");
      await page.locator("#orders [data-order-id]").first().waitFor();
      const paidId = (await page.locator("#orders [data-order-id]").first().getAttribute("data-order-id"))!;
      await statusOf(page, paidId).filter({ hasText: "FINISHED" }).waitFor();
      await page.locator("#balance", { hasText: "700" }).waitFor();

      await page.fill("#order-description", "piano");
      await page.fill("#order-amount", "5000");
      await page.click("#place-order");
      await page.locator("#orders [data-order-id]").nth(1).waitFor();
      const refusedId = (await page.locator("#orders [data-order-id]").first().getAttribute("data-order-id"))!;
      assert.notEqual(refusedId, paidId);
      await statusOf(page, refusedId).filter({ hasText: "CANCELLED" }).waitFor();
      await page.locator("#orders", { hasText: "Not enough money" }).waitFor();
      assert.equal(await page.textContent("#balance"), "700");
      assert.equal((await shop.balance(user)).body.balance, 700);

      await mkdir("test-results", { recursive: true });
      await page.screenshot({ path: "test-results/shop-page.png", fullPage: true });

      // A second tab of the same user, opened now, shows the same state from its first sync.
      const later = await browser.newPage();
      await later.goto(stack.frontendUrl);
      await later.fill("#user-id", user);
      await later.click("#connect");
      await statusOf(later, paidId).filter({ hasText: "FINISHED" }).waitFor();
      await statusOf(later, refusedId).filter({ hasText: "CANCELLED" }).waitFor();
      await later.locator("#balance", { hasText: "700" }).waitFor();
      await later.close();
      await page.close();
    });

    it("reconnects by itself when the connection drops, and catches up on what it missed", async () => {
      const { page, user } = await newShopperPage();
      const db = new pg.Pool({ connectionString: stack.ordersDatabaseUrl, max: 1 });
      try {
        const { rows } = await db.query<{ connection_id: string }>("SELECT connection_id FROM websocket_connections WHERE user_id = $1", [user]);
        assert.equal(rows.length, 1);
        // The API side drops the socket (as API Gateway does after its idle timeout), then money moves.
        const dropped = await fetch(`${stack.wsUrl.replace("ws://", "http://")}/@connections/${rows[0]!.connection_id}`, { method: "DELETE" });
        assert.equal(dropped.status, 204);
        assert.equal((await shop.deposit(user, 321)).status, 200);
        await page.locator("#balance", { hasText: "321" }).waitFor();
        await page.locator("#connection-state", { hasText: "live" }).waitFor();
        const placed = await shop.placeOrder(user, 21, "bought elsewhere");
        await statusOf(page, placed.body.order_id).filter({ hasText: "FINISHED" }).waitFor();
        await page.locator("#balance", { hasText: "300" }).waitFor();
      } finally {
        await db.end();
        await page.close();
      }
    });

    it("explains a deposit to a missing account in words", async () => {
      const page = await browser.newPage();
      await page.goto(stack.frontendUrl);
      await page.click("#generate-user");
      await page.fill("#deposit-amount", "10");
      await page.click("#deposit");
      const message = page.locator("#messages .message.error").first();
      await message.waitFor();
      assert.match((await message.textContent()) ?? "", /no account/i);
      await page.close();
    });
  });
});
