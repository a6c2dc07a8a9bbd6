import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { costOf, costTable, InvocationLog } from "../../scripts/bench/cost.ts";

/**
 * What the benchmark says an order costs on AWS (scripts/bench/cost.ts), against a case counted by
 * hand: 200 settled orders, the functions' "invocations" lines and the consumers' "batch handled"
 * lines as the stack prints them, and the load generator's traffic. Every expected number below is
 * worked out in the comments from the prices the code claims to use, so a wrong price or a slip in
 * the arithmetic fails here instead of reaching the README.
 *
 * Memory: serverless.yml gives the provider 512 MB and no function its own memorySize, so every
 * function here is 512 MB = 0.5 GB. Change that, and this case must be recounted.
 */

/** A line as pino prints it, as the bench reads it from the stack's output. */
const invocationsLine = (invocations: Record<string, { count: number; ms: number; billed_ms: number }>) =>
  JSON.stringify({
    level: "info",
    time: "2026-12-03T10:00:00.000Z",
    service: "gozon-shop",
    invocations,
    msg: "invocations",
  });

const batchLine = (topic: string, records: number) =>
  JSON.stringify({
    level: "info",
    time: "2026-12-03T10:00:00.000Z",
    service: "gozon-shop",
    topic,
    records,
    msg: "batch handled",
  });

/**
 * Two report periods. Per function, summed over both lines:
 *   createOrder          120 + 80 = 200 invocations,  5400 + 3600 =  9000 billed ms
 *   onOrderCreated                   50 invocations,                  4000 billed ms
 *   onPaymentProcessed               50 invocations,                  3500 billed ms
 *   ordersOutboxRelay     60 + 40 = 100 invocations, 36000 + 24000 = 60000 billed ms
 *   paymentsOutboxRelay             100 invocations,                 54000 billed ms
 *   all                             500 invocations,                130500 billed ms
 */
const STACK_OUTPUT = [
  "✓ orders-db is ready", // the supervisor's own lines are not JSON
  JSON.stringify({ level: "info", msg: "outbox relayed", database: "orders", published: 3 }),
  '{"level":"info","msg":"invocations","invocations":{"gozon-shop-dev-createOrder":', // cut off: ignored
  invocationsLine({
    "gozon-shop-dev-createOrder": { count: 120, ms: 5300.5, billed_ms: 5400 },
    "gozon-shop-dev-onOrderCreated": { count: 50, ms: 3990.25, billed_ms: 4000 },
    "gozon-shop-dev-ordersOutboxRelay": { count: 60, ms: 35990, billed_ms: 36000 },
  }),
  batchLine("orders.created", 10),
  batchLine("orders.created", 20),
  batchLine("payments.processed", 7),
  invocationsLine({
    "gozon-shop-dev-createOrder": { count: 80, ms: 3550, billed_ms: 3600 },
    "gozon-shop-dev-onPaymentProcessed": { count: 50, ms: 3480.75, billed_ms: 3500 },
    "gozon-shop-dev-ordersOutboxRelay": { count: 40, ms: 23995.5, billed_ms: 24000 },
    "gozon-shop-dev-paymentsOutboxRelay": { count: 100, ms: 53900, billed_ms: 54000 },
  }),
];

/**
 * The load generator's side of the same run: 600 HTTP requests (3 an order), 1000 frames received
 * over the sockets (5 an order), and 120 users connected for 120 s: 120 * 120 / 60 = 240 connection minutes.
 */
const TRAFFIC = { orders: 200, httpRequests: 600, websocketMessages: 1000, connectionMinutes: 240 };

function counted() {
  const log = new InvocationLog();
  for (const line of STACK_OUTPUT) log.take(line);
  return log.drain();
}

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

describe("what an order costs on AWS, counted by hand", () => {
  it("adds the log lines up per function, by the function's short name, and ignores every other line", () => {
    const { invocations, batches } = counted();
    assert.deepEqual(invocations, {
      createOrder: { count: 200, ms: 5300.5 + 3550, billed_ms: 9000 },
      onOrderCreated: { count: 50, ms: 3990.25, billed_ms: 4000 },
      onPaymentProcessed: { count: 50, ms: 3480.75, billed_ms: 3500 },
      ordersOutboxRelay: { count: 100, ms: 35990 + 23995.5, billed_ms: 60000 },
      paymentsOutboxRelay: { count: 100, ms: 53900, billed_ms: 54000 },
    });
    assert.deepEqual(batches, {
      "orders.created": { batches: 2, records: 30 },
      "payments.processed": { batches: 1, records: 7 },
    });
  });

  it("gives each function's invocations, billed seconds and GB-seconds per 1000 orders, the costliest first", () => {
    // Per 1000 orders is per 200 orders times 1000 / 200 = 5. GB-s = billed s * 512 / 1024 = billed s * 0.5.
    //   function             invocations      billed s             GB-s
    //   ordersOutboxRelay    100 * 5 =  500   60.0 * 5 = 300.0     300.0 * 0.5 = 150.00
    //   paymentsOutboxRelay  100 * 5 =  500   54.0 * 5 = 270.0     270.0 * 0.5 = 135.00
    //   createOrder          200 * 5 = 1000    9.0 * 5 =  45.0      45.0 * 0.5 =  22.50
    //   onOrderCreated        50 * 5 =  250    4.0 * 5 =  20.0      20.0 * 0.5 =  10.00
    //   onPaymentProcessed    50 * 5 =  250    3.5 * 5 =  17.5      17.5 * 0.5 =   8.75
    //   all                            2500             652.5                    326.25
    const cost = costOf(counted(), TRAFFIC);
    const expected = [
      ["ordersOutboxRelay", 500, 300, 150],
      ["paymentsOutboxRelay", 500, 270, 135],
      ["createOrder", 1000, 45, 22.5],
      ["onOrderCreated", 250, 20, 10],
      ["onPaymentProcessed", 250, 17.5, 8.75],
    ] as const;
    assert.deepEqual(
      cost.rows.map((r) => r.function),
      expected.map(([name]) => name),
    );
    cost.rows.forEach((row, i) => {
      const [name, invocations, seconds, gbSeconds] = expected[i]!;
      assert.equal(row.memoryMb, 512, `${name}: memory`);
      close(row.invocationsPer1000, invocations, `${name}: invocations per 1000 orders`);
      close(row.secondsPer1000, seconds, `${name}: billed seconds per 1000 orders`);
      close(row.gbSecondsPer1000, gbSeconds, `${name}: GB-seconds per 1000 orders`);
    });
    // Records per consumer batch: orders.created (10 + 20) / 2 = 15; payments.processed 7 / 1 = 7.
    assert.deepEqual(cost.batchSizes, { "orders.created": 15, "payments.processed": 7 });
  });

  it("prices a million orders: Lambda requests and duration, HTTP API requests, WebSocket messages and connection minutes", () => {
    // Prices (cost.ts's PRICES, us-east-1): aws.amazon.com/lambda/pricing, x86, first tier: $0.20 per 1M
    // requests and $0.0000166667 per GB-second; aws.amazon.com/api-gateway/pricing: HTTP API $1.00 per 1M
    // requests, WebSocket $1.00 per 1M messages and $0.25 per 1M connection minutes.
    // Per 1000 orders: HTTP requests 600 * 5 = 3000; WebSocket messages 1000 * 5 = 5000;
    // connection minutes 240 * 5 = 1200. A million orders is 1000 times that.
    //   Lambda requests: 2500 * 1000 = 2,500,000 requests * $0.20 / 1M             = $0.50
    //   Lambda duration: 326.25 * 1000 = 326,250 GB-s * $0.0000166667             = $5.4375108... -> $5.44
    //   HTTP API:        3000 * 1000 = 3,000,000 requests * $1.00 / 1M             = $3.00
    //   WebSocket:       5000 * 1000 = 5,000,000 messages * $1.00 / 1M             = $5.00
    //                  + 1200 * 1000 = 1,200,000 connection minutes * $0.25 / 1M  = $0.30   -> $5.30
    //   total:           0.50 + 5.4375108 + 3.00 + 5.30                            = $14.2375108 -> $14.24
    // Each is rounded to the cent; the total is the sum before rounding.
    const cost = costOf(counted(), TRAFFIC);
    assert.equal(cost.orders, 200);
    close(cost.httpRequestsPer1000, 3000, "HTTP requests per 1000 orders");
    close(cost.websocketMessagesPer1000, 5000, "WebSocket messages per 1000 orders");
    close(cost.connectionMinutesPer1000, 1200, "connection minutes per 1000 orders");
    assert.deepEqual(cost.usdPerMillionOrders, {
      lambdaRequests: 0.5,
      lambdaDuration: 5.44,
      httpApi: 3,
      websocket: 5.3,
      total: 14.24,
    });
  });

  it("prints the same numbers in the README's table", () => {
    const table = costTable(costOf(counted(), TRAFFIC));
    for (const line of [
      "Per 1000 settled orders (200 orders counted); prices: us-east-1, read 2026-12-03.",
      "| ordersOutboxRelay | 512 | 500 | 300 | 150 |",
      "| paymentsOutboxRelay | 512 | 500 | 270 | 135 |",
      "| createOrder | 512 | 1000 | 45 | 22.5 |",
      "| onOrderCreated | 512 | 250 | 20 | 10 |",
      "| onPaymentProcessed | 512 | 250 | 17.5 | 8.75 |",
      "| **all functions** | | **2500** | **652.5** | **326.25** |",
      "HTTP API requests 3000, WebSocket messages 5000, connection minutes 1200; records per consumer batch: orders.created 15, payments.processed 7.",
      "USD per million orders: Lambda requests 0.5, Lambda duration 5.44, HTTP API 3, WebSocket 5.3; **total 14.24**.",
    ])
      assert.ok(table.split("\n").includes(line), `the table has the line\n${line}\nin\n${table}`);
  });

  it("costs nothing per order when no order settled, instead of dividing by zero", () => {
    const cost = costOf(counted(), { ...TRAFFIC, orders: 0 });
    assert.deepEqual(cost.usdPerMillionOrders, {
      lambdaRequests: 0,
      lambdaDuration: 0,
      httpApi: 0,
      websocket: 0,
      total: 0,
    });
  });
});
