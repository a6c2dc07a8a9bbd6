/** An order's trace from the POST to the last push, and a caller's trace continued. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { it } from "node:test";
import { eventually } from "../../support/shop-client.ts";
import { type LogLine, tracesHelpers, type TracesStack, type ZipkinSpan } from "./context.ts";

export function orderTraceTests(t: TracesStack): void {
  const { fundedUser, traceWith, one, service, ok } = tracesHelpers(t);
  it("follows an order from the POST to the last push, each hop a child of the one before, and the log lines carry its trace id", async () => {
    const { shop, logs } = t;
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
    const { shop } = t;
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
}
