import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { RunningStack } from "../../local/stack.ts";
import { eventually, ShopClient, type Socket } from "../support/shop-client.ts";
import { launchChromium } from "../support/browser.ts";
import { startTestStack, TEST_PORTS } from "../support/stack.ts";
import { testPool } from "../support/database.ts";
import { fetchTopicOffsets, produce } from "../support/kafka.ts";
import { localFunctionName } from "../../local/offline/functions.ts";

/** The value of each series /metrics serves now, by its name and labels as Prometheus writes them. */
async function scrape(url: string): Promise<Map<string, number>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const series = new Map<string, number>();
  for (const line of (await response.text()).split("\n")) {
    const match = /^(\S+) (\S+)$/.exec(line);
    if (match && !line.startsWith("#")) series.set(match[1]!, Number(match[2]));
  }
  return series;
}

describe("the shop end to end (real Kafka, two real Postgres, cognito-local, serverless-offline; HTTP and WebSocket only, signed in)", () => {
  let stack: RunningStack;
  let shop: ShopClient;

  before(async () => {
    stack = await startTestStack("shop");
    shop = new ShopClient(stack.apiUrl, stack.wsUrl, stack.identity);
  });
  after(async () => {
    await stack?.stop();
  });

  it("reports Kafka and both databases healthy", async () => {
    const health = await shop.request<{ status: string; checks: Record<string, string> }>("GET", "/api/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.status, "ok");
    assert.deepEqual(health.body.checks, { kafka: "up", orders_db: "up", payments_db: "up" });
  });

  it("charges an affordable order, cancels an unaffordable one, and pushes both outcomes live", async () => {
    const user = await shop.signUp();
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
      // One message per order: the balance the payment left rides on the order's frame.
      assert.equal(paidFrame.balance, 700);
      assert.equal((await shop.balance(user)).body.balance, 700);

      const refused = await shop.placeOrder(user, 5000, "car");
      assert.equal(refused.status, 201);
      const refusedFrame = await socket.waitFor(
        (f) => f.type === "ORDER_UPDATED" && f.order_id === refused.body.order_id,
      );
      assert.equal(refusedFrame.status, "CANCELLED");
      assert.equal(refusedFrame.reason, "insufficient_funds");
      assert.equal((await shop.balance(user)).body.balance, 700);

      const one = await shop.order(paid.body.order_id, user);
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
      // The charge's balance came only on the order's frame. A deposit's comes on a frame of its own,
      // after the charge's announcement on the same partition: once it is here, that one was handled too.
      assert.equal((await shop.deposit(user, 10)).status, 200);
      await socket.waitFor((f) => f.type === "BALANCE_UPDATED" && f.balance === 710);
      const balanceFrames = socket.frames.filter((f) => f.type === "BALANCE_UPDATED").map((f) => f.balance);
      assert.ok(!balanceFrames.includes(700), `no frame of its own for the charge's 700: ${balanceFrames.join(", ")}`);
    } finally {
      socket?.close();
    }
  });

  it("shows an operator, at /metrics, the orders taken, paid and cancelled, the pushes sent, and the sampled levels", async () => {
    const before = await scrape(stack.metricsUrl);
    const orders = testPool(stack.ordersDatabaseUrl, 1);
    const fn = (name: string) => `function_name="${localFunctionName(name)}"`;
    const counted = (series: Map<string, number>, name: string) => series.get(name) ?? 0;
    const accepted = `gozon_orders_accepted_total{${fn("createOrder")}}`;
    const finished = `gozon_orders_finished_total{${fn("onPaymentProcessed")}}`;
    const cancelled = `gozon_orders_cancelled_total{${fn("onPaymentProcessed")}}`;
    const pushed = `gozon_pushes_sent_total{${fn("onPaymentProcessed")}}`;
    const user = await shop.signUp();
    const socket = await shop.connect(user);
    try {
      assert.equal((await shop.createAccount(user)).status, 201);
      assert.equal((await shop.deposit(user, 100)).status, 200);
      const paid = await shop.placeOrder(user, 60, "lamp");
      const refused = await shop.placeOrder(user, 600, "sofa");
      for (const order of [paid, refused])
        await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === order.body.order_id);
      // Each order of this stack counted once, after its commit: the counters equal the orders
      // table (every test's orders, this one's two among them), and this test's frames were sent.
      await eventually(
        async () => {
          const now = await scrape(stack.metricsUrl);
          const { rows } = await orders.query<{ status: string; n: number }>(
            "SELECT status, count(*)::int AS n FROM orders GROUP BY status",
          );
          const rowsOf = (status?: string) => rows.reduce((n, r) => n + (!status || r.status === status ? r.n : 0), 0);
          return counted(now, accepted) === rowsOf() &&
            counted(now, finished) === rowsOf("FINISHED") &&
            counted(now, cancelled) === rowsOf("CANCELLED") &&
            rowsOf("NEW") === 0 &&
            counted(now, pushed) - counted(before, pushed) >= 2
            ? true
            : undefined;
        },
        10_000,
        "orders accepted, finished and cancelled at /metrics equal to the orders table, and the frames pushed",
      );
    } finally {
      socket.close();
      await orders.end();
    }

    // A record no consumer can read is parked on its dead-letter topic, which the sample counts.
    await produce(stack.kafkaBrokers, "orders.created", [{ key: user.id, value: "not json" }]);
    const onTheTopic = async () =>
      (await fetchTopicOffsets(stack.kafkaBrokers, "orders.created.dlt")).reduce(
        (n, p) => n + Number(p.high) - Number(p.low),
        0,
      );

    // The schedule samples each minute; invoked here as the schedule would, once the shop is idle
    // every level is nought: nothing waits in an outbox, every group has committed every record.
    const lambda = `http://127.0.0.1:${TEST_PORTS.lambda}`;
    const levels = await eventually(
      async () => {
        const invoked = await fetch(
          `${lambda}/2015-03-31/functions/${localFunctionName("sampleMetrics")}/invocations`,
          {
            method: "POST",
            body: "{}",
            signal: AbortSignal.timeout(10_000),
          },
        );
        assert.equal(invoked.status, 200);
        const now = await scrape(stack.metricsUrl);
        const sampled = [...now].filter(([name]) =>
          /^gozon_(outbox_backlog|outbox_oldest_age_seconds|consumer_lag)\{/.test(name),
        );
        const parked = counted(now, `gozon_dead_letters{${fn("sampleMetrics")},topic="orders.created.dlt"}`);
        return sampled.length === 7 &&
          sampled.every(([, value]) => value === 0) &&
          parked >= 1 &&
          parked === (await onTheTopic())
          ? now
          : undefined;
      },
      20_000,
      "outbox backlogs, oldest ages and consumer lags sampled at 0, and the parked record counted",
    );
    for (const group of ["gozon-payments-charges", "gozon-orders-payment-results", "gozon-notifications-balances"])
      assert.equal(levels.get(`gozon_consumer_lag{${fn("sampleMetrics")},consumer_group="${group}"}`), 0);
    for (const topic of ["orders.created.dlt", "payments.processed.dlt", "payments.balance-updated.dlt"])
      assert.ok(
        levels.has(`gozon_dead_letters{${fn("sampleMetrics")},topic="${topic}"}`),
        `dead letters on ${topic} sampled`,
      );
  });

  it("cancels an order of a user without an account, saying why", async () => {
    const user = await shop.signUp();
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

  it("refuses a WebSocket without a valid access token", async () => {
    await assert.rejects(shop.connect("not-a-uuid"), /Unexpected server response: 401/);
    const user = await shop.signUp();
    await assert.rejects(shop.connect({ ...user, token: "not-a-token" }), /Unexpected server response: 401/);
    await assert.rejects(shop.connect(user, { user_id: "not-a-uuid" }), /Unexpected server response: 403/);
  });

  it("pushes every update to every open tab of the user, and a tab opened later catches up from a snapshot", async () => {
    const user = await shop.signUp();
    await shop.createAccount(user);
    const [first, second] = [await shop.connect(user), await shop.connect(user)];
    try {
      await shop.deposit(user, 500);
      for (const tab of [first, second]) await tab.waitFor((f) => f.type === "BALANCE_UPDATED" && f.balance === 500);
      const placed = await shop.placeOrder(user, 200, "lamp");
      for (const tab of [first, second]) {
        const frame = await tab.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
        assert.deepEqual(
          [frame.status, frame.amount, frame.description, frame.balance],
          ["FINISHED", 200, "lamp", 300],
        );
      }
      const third = await shop.connect(user);
      try {
        third.ws.send(JSON.stringify({ action: "sync" }));
        const snapshot = await third.waitFor((f) => f.type === "SNAPSHOT");
        assert.equal(snapshot.balance, 300);
        assert.deepEqual(
          (snapshot.orders as Array<{ id: string; status: string }>).map((o) => [o.id, o.status]),
          [[placed.body.order_id, "FINISHED"]],
        );
      } finally {
        third.close();
      }
    } finally {
      first.close();
      second.close();
    }
  });

  it("knows a new account's balance of 0 in a snapshot, before any money moved", async () => {
    const user = await shop.signUp();
    await shop.createAccount(user);
    const socket = await shop.connect(user);
    try {
      // A sync faster than once a second is answered with a 429 PROBLEM frame: ask again after that.
      const balance = await eventually(
        async () => {
          const seen = socket.frames.length;
          socket.ws.send(JSON.stringify({ action: "sync" }));
          const answer = await socket.waitFor(
            (f) => (f.type === "SNAPSHOT" || f.type === "PROBLEM") && socket.frames.indexOf(f) >= seen,
          );
          return answer.type === "SNAPSHOT" && answer.balance !== null ? answer.balance : undefined;
        },
        15_000,
        "the opening balance announced",
      );
      assert.equal(balance, 0);
    } finally {
      socket.close();
    }
  });

  it("forgets a connection that is gone when a push finds it, and the order still settles", async () => {
    const user = await shop.fundedShopper(100);
    const db = testPool(stack.ordersDatabaseUrl, 1);
    try {
      // A connection the WebSocket API no longer knows: its $disconnect never arrived.
      await db.query("INSERT INTO websocket_connections (connection_id, user_id) VALUES ('vanished-connection', $1)", [
        user.id,
      ]);
      const live = await shop.connect(user);
      try {
        const placed = await shop.placeOrder(user, 60);
        const frame = await live.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === placed.body.order_id);
        assert.equal(frame.status, "FINISHED");
        await eventually(
          async () => {
            const { rowCount } = await db.query(
              "SELECT 1 FROM websocket_connections WHERE connection_id = 'vanished-connection'",
            );
            return rowCount === 0 ? true : undefined;
          },
          10_000,
          "the gone connection removed",
        );
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
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    const statusOf = (page: Page, orderId: string) => page.locator(`#orders [data-order-id="${orderId}"] .status`);
    /** What the page keeps of its session (in the browser's localStorage). */
    const sessionOf = (page: Page) =>
      page.evaluate<{ userId: string; accessToken: string; expiresAt: number } | null>(
        'JSON.parse(localStorage.getItem("gozon.session") ?? "null")',
      );
    const newEmail = () => `page-${randomUUID()}@example.com`;
    const PASSWORD = "correct horse battery";

    /** Signs up on the page as a person would: e-mail and password, then the code from the "e-mail". */
    async function signUpOnPage(page: Page, email = newEmail()): Promise<{ email: string; userId: string }> {
      await page.goto(stack.frontendUrl);
      await page.fill("#email", email);
      await page.fill("#password", PASSWORD);
      await page.click("#sign-up");
      await page.locator("#confirm-form").waitFor();
      await page.fill("#confirm-code", await stack.identity!.confirmationCode(email));
      await page.click("#confirm");
      await page.locator("#signed-in-as", { hasText: email }).waitFor();
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      await page.locator("#balance", { hasText: "0" }).waitFor();
      return { email, userId: (await sessionOf(page))!.userId };
    }

    it("signs up, deposits, orders and watches the statuses change, stays signed in across a reload, signs out and in again", async () => {
      const page = await browser.newPage();
      await page.goto(stack.frontendUrl);
      assert.ok(await page.isVisible("#sign-in-card"), "a visitor sees the sign-in form");
      assert.ok(!(await page.isVisible("#shop")), "and no shop until signed in");
      await mkdir("test-results", { recursive: true });
      await page.screenshot({ path: "test-results/shop-sign-in.png", fullPage: true });
      const { email, userId } = await signUpOnPage(page);

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
      const token = (await sessionOf(page))!.accessToken;
      assert.equal(
        (await shop.balance({ id: userId, email, password: PASSWORD, token, refreshToken: "" })).body.balance,
        700,
      );
      await page.screenshot({ path: "test-results/shop-page.png", fullPage: true });

      // A reload keeps the session: still signed in, the same orders, live again.
      await page.reload();
      await page.locator("#signed-in-as", { hasText: email }).waitFor();
      await statusOf(page, paidId).filter({ hasText: "FINISHED" }).waitFor();
      await statusOf(page, refusedId).filter({ hasText: "CANCELLED" }).waitFor();
      await page.locator("#balance", { hasText: "700" }).waitFor();
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      assert.ok(!(await page.isVisible("#sign-in-card")));

      // Signing out forgets the session and shows nobody's money.
      await page.click("#sign-out");
      await page.locator("#sign-in-card").waitFor();
      await page.locator("#connection-state", { hasText: "offline" }).waitFor();
      assert.equal(await sessionOf(page), null);
      assert.ok(!(await page.isVisible("#shop")));
      await page.reload();
      await page.locator("#sign-in-card").waitFor();

      // Signing in again with e-mail and password brings the same account back.
      await page.fill("#email", email);
      await page.fill("#password", PASSWORD);
      await page.click("#sign-in");
      await page.locator("#signed-in-as", { hasText: email }).waitFor();
      await statusOf(page, paidId).filter({ hasText: "FINISHED" }).waitFor();
      await page.locator("#balance", { hasText: "700" }).waitFor();
      await page.close();
    });

    it("refreshes the access token before it expires, and goes on with the new one", async () => {
      const page = await browser.newPage();
      await signUpOnPage(page);
      const before = (await sessionOf(page))!;
      // As if the hour were almost over: the page renews the token when it starts.
      await page.evaluate(
        'localStorage.setItem("gozon.session", JSON.stringify({ ...JSON.parse(localStorage.getItem("gozon.session")), expiresAt: Date.now() + 30000 }))',
      );
      await page.reload();
      const renewed = await eventually(
        async () => {
          const now = await sessionOf(page);
          return now && now.accessToken !== before.accessToken ? now : undefined;
        },
        15_000,
        "a new access token",
      );
      assert.ok(renewed.expiresAt > Date.now() + 30 * 60_000, "good for most of an hour again");
      assert.equal(renewed.userId, before.userId);
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      await page.fill("#deposit-amount", "5");
      await page.click("#deposit");
      await page.locator("#balance", { hasText: "5" }).waitFor();
      await page.close();
    });

    it("reconnects by itself when the connection drops, and catches up on what it missed", async () => {
      const page = await browser.newPage();
      const { userId } = await signUpOnPage(page);
      const user = {
        id: userId,
        email: "",
        password: "",
        token: (await sessionOf(page))!.accessToken,
        refreshToken: "",
      };
      const db = testPool(stack.ordersDatabaseUrl, 1);
      try {
        const { rows } = await db.query<{ connection_id: string }>(
          "SELECT connection_id FROM websocket_connections WHERE user_id = $1",
          [userId],
        );
        assert.equal(rows.length, 1);
        // The API side drops the socket (as API Gateway does after its idle timeout), then money moves.
        const dropped = await fetch(
          `${stack.wsUrl.replace("ws://", "http://")}/@connections/${rows[0]!.connection_id}`,
          { method: "DELETE" },
        );
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

    it("explains a wrong password and a wrong confirmation code in words", async () => {
      const page = await browser.newPage();
      await page.goto(stack.frontendUrl);
      await page.fill("#email", newEmail());
      await page.fill("#password", PASSWORD);
      await page.click("#sign-in");
      const wrong = page.locator("#messages .message.error").first();
      await wrong.waitFor();
      assert.match((await wrong.textContent()) ?? "", /wrong e-mail or password/i);
      await page.fill("#email", newEmail());
      await page.click("#sign-up");
      await page.locator("#confirm-form").waitFor();
      await page.fill("#confirm-code", "000000x");
      await page.click("#confirm");
      await page.locator("#messages .message.error", { hasText: /code is not right/i }).waitFor();
      assert.ok(!(await page.isVisible("#shop")));
      await page.close();
    });

    it("lets Swagger UI authorize with an access token and call the API as that user", async () => {
      const user = await shop.fundedShopper(42);
      const page = await browser.newPage();
      await page.goto(stack.docsUrl);
      await page.locator("button.authorize").first().click();
      await page.locator(".auth-container input").first().fill(user.token);
      await page.locator(".auth-btn-wrapper button.authorize").click();
      await page.locator(".auth-btn-wrapper button.btn-done").click();
      const operation = page.locator(".opblock-get", {
        has: page.locator(".opblock-summary-path", { hasText: /^\/api\/payments\/balance$/ }),
      });
      await operation.locator(".opblock-summary").click();
      await operation.locator("button.try-out__btn").click();
      await operation.locator("button.execute").click();
      const answer = operation.locator(".live-responses-table .response .response-col_status");
      await answer.first().waitFor();
      assert.equal((await answer.first().textContent())?.trim(), "200");
      assert.match(
        (await operation.locator(".live-responses-table .response .response-col_description").first().textContent()) ??
          "",
        /"balance": 42/,
      );
      await page.close();
    });
  });
});
