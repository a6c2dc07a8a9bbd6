import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type pg from "pg";
import { LOCAL_DIR, ROOT } from "../../local/core/paths.ts";
import type { PartName, RunningStack } from "../../local/stack.ts";
import { eventually, ShopClient, type Shopper } from "../support/shop-client.ts";
import { launchChromium } from "../support/browser.ts";
import { shifted, startTestStack, testStackName } from "../support/stack.ts";
import { testPool } from "../support/database.ts";
import { createTopic, fetchOffsets, produce, readUntil, setOffset } from "../support/kafka.ts";

/** Apart from `npm start`'s, the e2e tests' and the benchmarks'. */
const PORTS = shifted({
  http: 4100,
  websocket: 4101,
  lambda: 4102,
  frontend: 4108,
  kafka: 29092,
  kafkaController: 29093,
  ordersDb: 17432,
  paymentsDb: 17433,
  cognito: 4109,
  zipkin: 4110,
});
const PROBE_TOPIC = "supervisor.probe";
const PROBE_GROUP = "supervisor-probe";

describe("a part of the stack that dies is brought back on its data (real processes, killed with SIGKILL)", () => {
  let stack: RunningStack;
  let shop: ShopClient;
  let orders: pg.Pool;
  let regular: Shopper;
  const said: string[] = [];

  before(async () => {
    // Traces on, with this stack's own Zipkin (whatever exporter the environment names), so that Zipkin is killed too.
    stack = await startTestStack("supervisor", {
      ports: PORTS,
      env: { TRACES: "on", OTEL_TRACES_EXPORTER: undefined },
      progress: (line) => said.push(line),
    });
    await stack.zipkinReady();
    shop = new ShopClient(stack.apiUrl, stack.wsUrl, stack.identity);
    regular = await shop.signUp(); // signed up before the kills: must still sign in after each
    orders = testPool(stack.ordersDatabaseUrl, 2);
    orders.on("error", () => undefined); // its server is killed on purpose below
    await orders.query("CREATE TABLE supervisor_probe (note TEXT NOT NULL)");
    await orders.query("INSERT INTO supervisor_probe VALUES ('committed before the kills')");

    await createTopic(stack.kafkaBrokers, PROBE_TOPIC, 1);
    await produce(stack.kafkaBrokers, PROBE_TOPIC, [
      { key: "probe", value: "sent before the kills" },
      { value: "second" },
    ]);
    await setOffset(stack.kafkaBrokers, PROBE_GROUP, PROBE_TOPIC, 0, 1n);
  });
  after(async () => {
    await orders?.end();
    await stack?.stop();
  });

  async function firstProbeMessage(): Promise<string> {
    const [first] = await readUntil(stack.kafkaBrokers, PROBE_TOPIC, () => true, 1, 30_000);
    return String(first!.value);
  }

  /** The row, the message and the consumer group's offset are still there, an order goes all the way through, and Zipkin answers. */
  async function assertEverythingStillWorks(): Promise<void> {
    await eventually(
      async () => ((await fetch(`${stack.apiUrl}/api/health`)).ok ? true : undefined),
      30_000,
      "GET /api/health answering 200",
    );
    const zipkinHealth = await fetch(new URL("/health", stack.tracesUrl), { signal: AbortSignal.timeout(5_000) });
    assert.equal(zipkinHealth.status, 200, "Zipkin's GET /health answers 200");
    const { rows } = await orders.query<{ note: string }>("SELECT note FROM supervisor_probe");
    assert.deepEqual(rows, [{ note: "committed before the kills" }]);
    assert.equal(await firstProbeMessage(), "sent before the kills");
    const [offsets] = await fetchOffsets(stack.kafkaBrokers, { groupId: PROBE_GROUP, topics: [PROBE_TOPIC] });
    assert.deepEqual(
      offsets?.partitions.map((p) => p.offset),
      ["1"],
    );

    assert.equal(
      (await shop.signIn(regular.email, regular.password)).id,
      regular.id,
      "a user from before the kills signs in",
    );
    const user = await shop.signUp();
    assert.equal((await shop.createAccount(user)).status, 201);
    assert.equal((await shop.deposit(user, 100)).status, 200);
    const placed = await shop.placeOrder(user, 40, "bought after a crash");
    assert.equal(placed.status, 201);
    const status = () =>
      shop.order(placed.body.order_id, user).then((r) => (r.body.status === "FINISHED" ? r.body.status : undefined));
    assert.equal(await eventually(status, 60_000, `order ${placed.body.order_id} FINISHED`), "FINISHED");
  }

  it("shows our API's operations under /docs/", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(stack.docsUrl);
      await page.locator(".opblock-summary-path", { hasText: "/api/orders" }).first().waitFor();
      const paths = await page.locator(".opblock-summary-path").allTextContents();
      assert.ok(
        paths.some((p) => p.includes("/api/payments/deposit")),
        paths.join(", "),
      );
      assert.ok(!paths.some((p) => p.includes("/pet")), "the Petstore demo is gone");
    } finally {
      await browser.close();
    }
  });

  const kills: Array<{ part: PartName; label: string; outageMs?: number }> = [
    { part: "ordersDb", label: "orders PostgreSQL" },
    { part: "kafka", label: "Kafka broker" },
    { part: "paymentsDb", label: "payments PostgreSQL", outageMs: 1_500 },
    { part: "offline", label: "serverless-offline" },
    { part: "front", label: "HTTP front" },
    { part: "cognito", label: "Cognito (cognito-local)" },
    { part: "zipkin", label: "Zipkin" },
  ];
  for (const { part, label, outageMs } of kills) {
    it(`${label}: killed, announced, replaced, and nothing is lost`, async () => {
      const pid = stack.pidOf(part);
      assert.ok(pid, `${part} runs`);
      const from = said.length;
      const started = Date.now();
      await stack.kill(part, { outageMs });
      if (outageMs) assert.ok(Date.now() - started >= outageMs, "it stayed down as long as asked");
      const lines = said.slice(from);
      assert.ok(
        lines.some((l) => l.includes(`✗ ${label} (pid ${pid}) exited unexpectedly (signal SIGKILL); restarting`)),
        lines.join("\n"),
      );
      assert.ok(
        lines.some((l) => l.startsWith(`✓ ${label} is back (`)),
        lines.join("\n"),
      );
      const replacement = stack.pidOf(part);
      assert.ok(replacement && replacement !== pid);
      const recorded = await readFile(`${LOCAL_DIR}/${testStackName("supervisor")}.pids`, "utf8");
      assert.ok(
        recorded.includes(`"pid":${replacement},`),
        "the replacement is written down for the next start's leftovers check",
      );
      await assertEverythingStillWorks();
    });
  }
});

/** Processes whose command line or environment mention `needle`. */
async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)) {
    const text = await Promise.all([readFile(`/proc/${pid}/cmdline`, "utf8"), readFile(`/proc/${pid}/environ`, "utf8")])
      .then((parts) => parts.join(" ").replaceAll("\0", " "))
      .catch(() => "");
    if (text.includes(needle)) found.push(`${pid}: ${text.slice(0, 120)}`);
  }
  return found;
}

describe("npm start, interrupted with Ctrl-C while it is still starting", () => {
  const moments = [
    { when: "while the infrastructure starts", line: "✓ orders PostgreSQL" },
    { when: "while serverless-offline starts", line: "… serverless-offline" },
  ];
  for (const { when, line } of moments) {
    it(`stops everything within 10 s ${when}, leaving no process behind`, async () => {
      const name = testStackName("supervisor-npm");
      const env = {
        ...process.env,
        STACK_NAME: name,
        HTTP_PORT: String(PORTS.http),
        WEBSOCKET_PORT: String(PORTS.websocket),
        LAMBDA_PORT: String(PORTS.lambda),
        FRONTEND_PORT: String(PORTS.frontend),
        KAFKA_PORT: String(PORTS.kafka),
        KAFKA_CONTROLLER_PORT: String(PORTS.kafkaController),
        ORDERS_DB_PORT: String(PORTS.ordersDb),
        PAYMENTS_DB_PORT: String(PORTS.paymentsDb),
        COGNITO_PORT: String(PORTS.cognito),
        ZIPKIN_PORT: String(PORTS.zipkin),
      };
      // A process group of its own, as a terminal gives it: Ctrl-C reaches npm, tsx and the start command alike.
      const npm = spawn("npm", ["start", "--silent"], {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      let output = "";
      const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
      npm.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      npm.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      try {
        await eventually(
          async () => (output.includes(line) ? true : undefined),
          120_000,
          `"${line}" in npm start's output`,
        );
        const interrupted = Date.now();
        process.kill(-npm.pid!, "SIGINT");
        const code = await Promise.race([
          exited,
          new Promise<"late">((resolve) => setTimeout(resolve, 10_000, "late").unref()),
        ]);
        assert.notEqual(code, "late", `npm start still runs 10 s after Ctrl-C:\n${output}`);
        console.log(`  Ctrl-C ${when}: npm start exited after ${((Date.now() - interrupted) / 1000).toFixed(1)} s`);
        assert.match(output, /Stopped\./);
        await eventually(
          async () => ((await processesMentioning(name)).length === 0 ? true : undefined),
          5_000,
          "no process left",
        ).catch(() => undefined);
        assert.deepEqual(await processesMentioning(name), []);
      } finally {
        try {
          process.kill(-npm.pid!, "SIGKILL");
        } catch {
          // gone, as it should be
        }
      }
    });
  }
});
