import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { migrate } from "../shared/db/migrate.ts";
import { deadLetterTopic, TOPICS } from "../shared/messaging/events.ts";
import { ensureTopics, startKafkaBroker } from "./kafka/broker.ts";
import { startFrontend } from "./frontend-server.ts";
import { recordProcess, stopLeftovers } from "./leftovers.ts";
import { LOCAL_DIR, ROOT } from "./paths.ts";
import { postgresUrl, startPostgres } from "./postgres/instance.ts";

export interface StackPorts {
  http: number;
  websocket: number;
  lambda: number;
  frontend: number;
  kafka: number;
  kafkaController: number;
  ordersDb: number;
  paymentsDb: number;
}

export const DEFAULT_PORTS: StackPorts = {
  http: 3000, websocket: 3001, lambda: 3002, frontend: 8000,
  kafka: 9092, kafkaController: 9093, ordersDb: 55432, paymentsDb: 55433,
};

export interface StackOptions {
  /** Names the folder under .local/ that holds this stack's data. */
  name: string;
  ports?: Partial<StackPorts>;
  /** Progress lines for people watching. */
  progress?: (line: string) => void;
  /** Every line serverless-offline prints (the functions' JSON logs among them). */
  output?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface RunningStack {
  apiUrl: string;
  wsUrl: string;
  frontendUrl: string;
  docsUrl: string;
  kafkaBrokers: string[];
  ordersDatabaseUrl: string;
  paymentsDatabaseUrl: string;
  stop(): Promise<void>;
}

export const SHOP_TOPICS = Object.values(TOPICS).flatMap((topic) => [topic, deadLetterTopic(topic)]);

async function timed<T>(progress: (line: string) => void, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  progress(`… ${what}`);
  const result = await work();
  progress(`✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/**
 * The whole shop on this machine: Kafka and two Postgres servers (unless KAFKA_BROKERS,
 * ORDERS_DATABASE_URL and PAYMENTS_DATABASE_URL point at existing ones), migrations, topics,
 * serverless-offline with the Kafka event source, and the frontend. stop() undoes it in reverse.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);
  const dir = path.join(LOCAL_DIR, options.name);
  // What serves requests stops first (frontend, then serverless-offline and its consumers), the
  // infrastructure under it last.
  const servers: Array<() => Promise<void>> = [];
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const undo of [...servers.reverse(), ...stops.reverse()]) await undo().catch((error: unknown) => progress(`! while stopping: ${String(error)}`));
  };

  await stopLeftovers(dir, progress);
  const kafkaBrokers = env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(",") : [`127.0.0.1:${ports.kafka}`];
  const ordersDatabaseUrl = env.ORDERS_DATABASE_URL ?? postgresUrl(ports.ordersDb, "orders");
  const paymentsDatabaseUrl = env.PAYMENTS_DATABASE_URL ?? postgresUrl(ports.paymentsDb, "payments");
  const apiUrl = `http://127.0.0.1:${ports.http}`;
  const wsUrl = `ws://127.0.0.1:${ports.websocket}`;
  try {
    // serverless-offline bundles the functions while the infrastructure comes up; its Kafka event
    // source waits for the topics before it subscribes.
    const offline = startOffline(
      dir,
      {
        ...env,
        ORDERS_DATABASE_URL: ordersDatabaseUrl,
        PAYMENTS_DATABASE_URL: paymentsDatabaseUrl,
        KAFKA_BROKERS: kafkaBrokers.join(","),
        LAMBDA_ENDPOINT: `http://127.0.0.1:${ports.lambda}`,
        WEBSOCKET_ENDPOINT: `http://127.0.0.1:${ports.websocket}`,
        HTTP_PORT: String(ports.http),
        WEBSOCKET_PORT: String(ports.websocket),
        LAMBDA_PORT: String(ports.lambda),
      },
      options.output ?? (() => undefined),
    );
    servers.push(offline.stop);
    await recordProcess(dir, offline.pid, `GOZON_STACK=${dir}`);

    // Started here, stopped by stop(), and written down in case this process dies first.
    const own = (what: string, start: () => Promise<{ pid: number | undefined; marker: string; stop(): Promise<void> }>) =>
      timed(progress, what, async () => {
        const started = await start();
        stops.push(started.stop);
        await recordProcess(dir, started.pid, started.marker);
      });
    await Promise.all([
      env.KAFKA_BROKERS ||
        own(`Kafka broker (KRaft) on ${kafkaBrokers[0]}`, () =>
          startKafkaBroker({ dir: path.join(dir, "kafka"), port: ports.kafka, controllerPort: ports.kafkaController, log: progress }),
        ),
      env.ORDERS_DATABASE_URL ||
        own(`orders PostgreSQL on 127.0.0.1:${ports.ordersDb}`, () =>
          startPostgres({ dir: path.join(dir, "orders-db"), port: ports.ordersDb, database: "orders" }),
        ),
      env.PAYMENTS_DATABASE_URL ||
        own(`payments PostgreSQL on 127.0.0.1:${ports.paymentsDb}`, () =>
          startPostgres({ dir: path.join(dir, "payments-db"), port: ports.paymentsDb, database: "payments" }),
        ),
    ]);

    await timed(progress, "migrations and topics", async () => {
      await Promise.all([
        // Both services carry the same outbox, inbox and idempotency-key tables, each in its own database.
        migrateDatabase(ordersDatabaseUrl, ["messaging", "orders"]),
        migrateDatabase(paymentsDatabaseUrl, ["messaging", "payments"]),
        ensureTopics(kafkaBrokers, SHOP_TOPICS),
      ]);
    });

    await timed(progress, `serverless-offline on ${apiUrl} and the Kafka event source`, async () => {
      await offline.ready;
      await waitForHealth(apiUrl, offline.exited);
    });

    const frontend = await startFrontend({ port: ports.frontend, host: env.OFFLINE_HOST ?? "127.0.0.1", apiUrl, wsUrl });
    servers.push(frontend.stop);

    return { apiUrl, wsUrl, frontendUrl: frontend.url, docsUrl: frontend.docsUrl, kafkaBrokers, ordersDatabaseUrl, paymentsDatabaseUrl, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function migrateDatabase(url: string, folders: string[]): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    await migrate(pool, folders.map((folder) => path.join(ROOT, "migrations", folder)));
  } finally {
    await pool.end();
  }
}

/** Local runs need these, whatever the shell has: no AWS account, no metadata probes (toolchain G1). */
const LOCAL_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  NPM_CONFIG_UPDATE_NOTIFIER: "false",
  SLS_TELEMETRY_DISABLED: "1",
};

function startOffline(marker: string, env: NodeJS.ProcessEnv, output: (line: string) => void) {
  const cli = path.join(ROOT, "node_modules", "serverless", "bin", "serverless.js");
  // In-process by default: a worker thread per concurrent request (the default) means 100 cold
  // starts for a burst of 100 orders, which a 2-core machine cannot absorb. OFFLINE_WORKERS=1
  // brings workers back, for hot reload while editing handlers.
  const mode = env.OFFLINE_WORKERS === "1" ? [] : ["--useInProcess"];
  // Its own process group: Ctrl-C reaches only the start command, which stops things in order.
  const child: ChildProcess = spawn(process.execPath, [cli, "offline", "start", "--noSponsor", ...mode], {
    cwd: ROOT,
    // serverless-offline prints two lines per invocation, synchronously into a pipe: at "warning"
    // it keeps them to itself, which frees the single event loop every function runs on.
    env: { ...env, ...LOCAL_AWS_ENV, GOZON_STACK: marker, LOG_LEVEL: env.OFFLINE_LOG_LEVEL ?? "warning" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let exitCode: number | null = null;
  const exit = new Promise<void>((resolve) => child.once("exit", (code) => ((exitCode = code ?? -1), resolve())));
  const ready = new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      output(line);
      if (line.includes("Kafka event source ready")) resolve();
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = "";
      stream?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        const lines = buffered.split("\n");
        buffered = lines.pop() ?? "";
        lines.forEach(onLine);
      });
    }
    void exit.then(() => reject(new Error(`serverless-offline exited with code ${exitCode} before it was ready`)));
  });
  ready.catch(() => undefined); // awaited later; an early failure must not go unhandled meanwhile
  return {
    ready,
    pid: child.pid,
    exited: () => exitCode,
    stop: async () => {
      if (exitCode !== null) return;
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

async function waitForHealth(apiUrl: string, exited: () => number | null, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (exited() !== null) throw new Error(`serverless-offline exited with code ${exited()}`);
    try {
      const response = await fetch(`${apiUrl}/api/health`);
      if (response.ok) return;
      last = await response.text();
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`GET ${apiUrl}/api/health did not answer 200 within ${timeoutMs / 1000} s: ${last}`);
}
