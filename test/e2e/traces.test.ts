import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import type { RunningStack } from "../../local/stack.ts";
import type { Browser } from "playwright-core";
import { launchChromium } from "../support/browser.ts";
import { eventually, newUserId, ShopClient, type Socket } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";
import { readUntil } from "../support/kafka.ts";
import { deadLetters } from "../support/dead-letters.ts";

/** A span as Zipkin's API answers it (names and services lower-cased by Zipkin). */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

/** One log line of a function, as the functions write them (JSON). */
interface LogLine {
  msg: string;
  correlation_id?: string;
  trace_id?: string;
  span_id?: string;
  topic?: string;
  fn?: string;
}

/**
 * One trace per order, read back from the real Zipkin the stack runs, and the same trace id in the
 * functions' log lines: from the POST through both outboxes, the charge and the status change, to
 * the pushes on the user's socket. The stack runs with AUTH=off: this is about traces, not identity.
 */
describe("every order is one trace, in Zipkin", () => {
  let stack: RunningStack;
  let shop: ShopClient;
  let zipkinApi: string;
  const logs: LogLine[] = [];

  before(async () => {
    stack = await startTestStack("traces", {
      env: { AUTH: "off", TRACES: "on" },
      output: (line) => {
        if (!line.startsWith("{")) return;
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a function's log line
        }
      },
    });
    assert.ok(stack.tracesUrl, "the stack names its trace viewer");
    zipkinApi = new URL("/api/v2/", stack.tracesUrl).href;
    await stack.zipkinReady();
    shop = new ShopClient(stack.apiUrl, stack.wsUrl);
  });
  after(async () => {
    await stack?.stop();
  });

  async function fundedUser(balance: number): Promise<{ user: string; socket: Socket }> {
    const user = newUserId();
    assert.equal((await shop.createAccount(user)).status, 201);
    assert.equal((await shop.deposit(user, balance)).status, 200);
    return { user, socket: await shop.connect(user) };
  }

  /** The traces Zipkin holds that have a span about this order. */
  async function tracesOf(orderId: string): Promise<ZipkinSpan[][]> {
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

  it("follows an order from the POST to the last push, each hop a child of the one before, and the log lines carry its trace id", async () => {
    const { user, socket } = await fundedUser(500);
    const placed = await shop.placeOrder(user, 120, "traced order");
    assert.equal(placed.status, 201);
    const orderId = placed.body.order_id;
    await socket.waitFor((f) => f.type === "ORDER_UPDATED" && f.order_id === orderId && f.status === "FINISHED");

    const spans = await traceWith(orderId, [
      "post /api/orders",
      "orders transaction",
      "send orders.created",
      "process orders.created",
      "send payments.processed",
      "process payments.processed",
      "push order_updated",
    ]);
    const request = one(spans, "post /api/orders");
    assert.equal(request.kind, "SERVER");
    assert.equal(request.parentId, undefined, "a request without traceparent starts the trace");
    assert.equal(request.localEndpoint?.serviceName, service("createOrder"));
    assert.equal(request.tags?.["http.response.status_code"], "201");
    assert.equal(request.tags?.["order.id"], orderId);
    assert.equal(request.tags?.["user.id"], user);

    const transaction = one(spans, "orders transaction");
    const sendCreated = one(spans, "send orders.created");
    const charge = one(spans, "process orders.created");
    const sendProcessed = one(spans, "send payments.processed");
    const settle = one(spans, "process payments.processed");
    const pushStatus = one(spans, "push order_updated");
    const chain: Array<[ZipkinSpan, ZipkinSpan, string]> = [
      [transaction, request, "the order's transaction"],
      [sendCreated, transaction, "the relay's publish of the row written in it"],
      [charge, sendCreated, "the charge"],
      [sendProcessed, charge, "the payment result's publish"],
      [settle, sendProcessed, "the status change"],
      [pushStatus, settle, "the push of the status, with the balance the payment left"],
    ];
    for (const [child, parent, what] of chain) {
      assert.equal(child.parentId, parent.id, `${what} (${child.name}) is a child of ${parent.name}`);
      assert.ok(ok(child), `${what} succeeded: ${JSON.stringify(child.tags)}`);
    }
    assert.equal(sendCreated.kind, "PRODUCER");
    assert.equal(sendCreated.localEndpoint?.serviceName, service("ordersOutboxRelay"));
    assert.equal(charge.kind, "CONSUMER");
    assert.equal(charge.localEndpoint?.serviceName, service("onOrderCreated"));
    assert.equal(charge.tags?.["order.id"], orderId);
    assert.equal(sendProcessed.localEndpoint?.serviceName, service("paymentsOutboxRelay"));
    assert.equal(settle.localEndpoint?.serviceName, service("onPaymentProcessed"));
    assert.equal(pushStatus.tags?.["websocket.connections"], "1");
    // One frame per order: the charge's balance is pushed with the status, never on its own.
    assert.equal(pushStatus.tags?.["websocket.frames"], "1");
    assert.deepEqual(
      spans.filter((s) => s.name.startsWith("push")).map((s) => s.name),
      ["push order_updated"],
    );
    // One event per charge: its balance rides on payments.processed, not on an event of its own.
    assert.deepEqual(
      spans.filter((s) => s.name.includes("payments.balance-updated")).map((s) => s.name),
      [],
    );

    // The same trace id in the log line of each step, written in that step's span.
    const traceId = request.traceId;
    const lineOf = (msg: string, span: ZipkinSpan, where: (l: LogLine) => boolean = () => true) =>
      eventually(
        async () => logs.find((l) => l.msg === msg && l.correlation_id === orderId && where(l)),
        10_000,
        `log line "${msg}" of ${orderId}`,
      ).then((line) => {
        assert.equal(line.trace_id, traceId, `"${msg}" carries the order's trace id`);
        assert.equal(line.span_id, span.id, `"${msg}" carries its step's span id`);
      });
    await lineOf("order placed", request);
    await lineOf("record published", sendCreated, (l) => l.topic === "orders.created");
    await lineOf("payment processed", charge);
    await lineOf("record published", sendProcessed, (l) => l.topic === "payments.processed");
    await lineOf("order settled", settle);
    await lineOf("frames pushed", pushStatus, (l) => l.fn === "gozon-shop-dev-onPaymentProcessed");
    socket.close();
  });

  it("continues a caller's trace from its traceparent, and starts a new one when the header is malformed", async () => {
    const { user, socket } = await fundedUser(500);
    const callerTrace = randomBytes(16).toString("hex");
    const callerSpan = randomBytes(8).toString("hex");
    const continued = await shop.request<{ order_id: string }>(
      "POST",
      "/api/orders",
      { user_id: user, amount: 10, description: "caller's trace" },
      { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    );
    assert.equal(continued.status, 201);
    const malformed = await shop.request<{ order_id: string }>(
      "POST",
      "/api/orders",
      { user_id: user, amount: 10, description: "bad traceparent" },
      { traceparent: "00-not-a-trace-01" },
    );
    assert.equal(malformed.status, 201, "a malformed traceparent is ignored, never refused");

    const first = await traceWith(continued.body.order_id, ["post /api/orders", "push order_updated"]);
    const request = one(first, "post /api/orders");
    assert.equal(request.traceId, callerTrace, "the caller's trace id");
    assert.equal(request.parentId, callerSpan, "a child of the caller's span");
    assert.ok(first.every((s) => s.traceId === callerTrace));

    const second = await traceWith(malformed.body.order_id, ["post /api/orders", "push order_updated"]);
    const fresh = one(second, "post /api/orders");
    assert.equal(fresh.parentId, undefined, "a new trace");
    assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(fresh.traceId, callerTrace);
    socket.close();
  });

  it("links an order placed on the page to its trace, which Zipkin's own page shows across the functions", async () => {
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(stack.frontendUrl);
      await page.locator("#connection-state", { hasText: "live" }).waitFor();
      await page.fill("#deposit-amount", "1000");
      await page.click("#deposit");
      await page.locator("#balance", { hasText: "1000" }).waitFor();
      await page.fill("#order-description", "blue teapot");
      await page.fill("#order-amount", "300");
      await page.click("#place-order");
      const row = page.locator("#orders [data-order-id]").first();
      await row.locator(".status", { hasText: "FINISHED" }).waitFor();
      const orderId = (await row.getAttribute("data-order-id"))!;
      const spans = await traceWith(orderId, ["push order_updated"]);
      const traceId = one(spans, "post /api/orders").traceId;

      // The link, as a person follows it: to Zipkin's own page of this trace.
      const [viewer] = await Promise.all([page.context().waitForEvent("page"), row.locator("a.trace-link").click()]);
      await viewer!.setViewportSize({ width: 1400, height: 900 });
      await viewer!.waitForURL(new URL(`traces/${traceId}`, stack.tracesUrl).href);
      // The waterfall names each span with the function that recorded it.
      for (const [fn, name] of [
        ["createOrder", "post /api/orders"],
        ["ordersOutboxRelay", "send orders.created"],
        ["onOrderCreated", "process orders.created"],
        ["paymentsOutboxRelay", "send payments.processed"],
        ["onPaymentProcessed", "process payments.processed"],
        ["onPaymentProcessed", "push order_updated"],
      ]) {
        await viewer!
          .getByText(`${service(fn!)}: ${name}`, { exact: true })
          .first()
          .waitFor({ timeout: 20_000 });
      }
      await viewer!.screenshot({ path: "test-results/trace.png" });
    } finally {
      await browser?.close();
    }
  });

  it("keeps an order's trace through the dead-letter topic and its redrive", async () => {
    const payments = new pg.Client({ connectionString: stack.paymentsDatabaseUrl });
    await payments.connect();
    const AMOUNT = 4343;
    try {
      // A fault injected in the real database: charging an order of this amount always fails.
      await payments.query(`
        CREATE FUNCTION fail_traced_charge() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'injected failure for amount %', NEW.amount; END $$;
        CREATE TRIGGER fail_traced_charge BEFORE INSERT ON payments FOR EACH ROW WHEN (NEW.amount = ${AMOUNT}) EXECUTE FUNCTION fail_traced_charge();`);
      const { user, socket } = await fundedUser(AMOUNT);
      const placed = await shop.placeOrder(user, AMOUNT, "dead-lettered, then redriven");
      assert.equal(placed.status, 201);
      const orderId = placed.body.order_id;

      const letter = (
        await readUntil(
          stack.kafkaBrokers,
          "orders.created.dlt",
          (m) => m.value?.toString().includes(orderId) ?? false,
          1,
          120_000,
        )
      )[0]!;
      assert.equal(letter.headers?.["dlt-reason"]?.toString(), "retries-exhausted");
      const before = await traceWith(orderId, ["post /api/orders", "send orders.created", "process orders.created"]);
      const traceId = one(before, "post /api/orders").traceId;
      const sendCreated = one(before, "send orders.created");
      assert.equal(
        letter.headers?.traceparent?.toString().split("-")[1],
        traceId,
        "the dead letter keeps the order's traceparent",
      );
      const attempts = before.filter((s) => s.name === "process orders.created");
      assert.ok(
        attempts.every((s) => !ok(s) && s.parentId === sendCreated.id),
        "every failed attempt is a failed span under the publish",
      );

      await payments.query("DROP TRIGGER fail_traced_charge ON payments; DROP FUNCTION fail_traced_charge();");
      const { code, stdout, stderr } = await deadLetters(
        stack,
        "redrive",
        "orders.created.dlt",
        `${letter.partition}:${letter.offset}`,
      );
      assert.equal(code, 0, stderr);
      assert.match(stdout, /1 record\(s\) sent back/);
      await socket.waitFor(
        (f) => f.type === "ORDER_UPDATED" && f.order_id === orderId && f.status === "FINISHED",
        60_000,
      );

      const spans = await eventually(
        async () => {
          const all = await traceWith(orderId, ["process payments.processed", "push order_updated"]);
          return all.some((s) => s.name === "process orders.created" && ok(s)) ? all : undefined;
        },
        30_000,
        "the redriven charge in the order's trace",
      );
      assert.ok(
        spans.every((s) => s.traceId === traceId),
        "one trace, before and after the redrive",
      );
      const charged = one(spans, "process orders.created", ok);
      assert.equal(charged.parentId, sendCreated.id, "the redriven record continues from the original publish");
      const settle = one(spans, "process payments.processed");
      assert.equal(one(spans, "send payments.processed").parentId, charged.id);
      assert.equal(one(spans, "push order_updated").parentId, settle.id);
      socket.close();
    } finally {
      await payments
        .query("DROP TRIGGER IF EXISTS fail_traced_charge ON payments; DROP FUNCTION IF EXISTS fail_traced_charge();")
        .catch(() => undefined);
      await payments.end();
    }
  });
});
