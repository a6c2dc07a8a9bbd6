import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { migrate, MIGRATION_FOLDERS } from "../shared/db/migrate.ts";
import { ALL_TOPICS } from "../shared/contract/events.ts";
import { createUserPool, identityProviderPart, identityProviderUrl, signingKeyFile, type UserPool } from "./cognito/identity-provider.ts";
import { ensureTopics, kafkaPart } from "./kafka/broker.ts";
import { frontPart } from "./front/part.ts";
import { startFrontend } from "./frontend-server.ts";
import { recordProcess, stopLeftovers } from "./leftovers.ts";
import { LOCAL_DIR, ROOT } from "./paths.ts";
import { postgresPart, postgresUrl } from "./postgres/instance.ts";
import { Supervisor, type Part, type PartName } from "./supervisor.ts";
import { ensureZipkin } from "./zipkin/install.ts";
import { tracesPlan, zipkinLogFile, zipkinPart } from "./zipkin/part.ts";

export type { PartName } from "./supervisor.ts";

export interface StackPorts {
  /** The HTTP API, as clients reach it: the front (local/front/), which admits requests to serverless-offline. */
  http: number;
  /** serverless-offline's own HTTP port, behind the front (default: http + 5). */
  httpBehindFront?: number;
  websocket: number;
  lambda: number;
  frontend: number;
  kafka: number;
  kafkaController: number;
  ordersDb: number;
  paymentsDb: number;
  /** cognito-local, the identity provider (not started with AUTH=off or a real user pool). */
  cognito: number;
  /** Zipkin, which collects the functions' spans and shows them (not started with TRACES=off or an OTEL_TRACES_EXPORTER of one's own). */
  zipkin: number;
}

/** What the front passes on at once: a burst of 100 orders is taken whole, the next are refused with 429. */
const FRONT_MAX_IN_FLIGHT = 128;

export const DEFAULT_PORTS: StackPorts = {
  http: 3000, websocket: 3001, lambda: 3002, frontend: 8000,
  kafka: 9092, kafkaController: 9093, ordersDb: 55432, paymentsDb: 55433, cognito: 9229, zipkin: 9411,
};

/** Sign-in as the stack runs it: the user pool whose access tokens the functions accept. */
export interface StackIdentity extends UserPool {
  /** True for cognito-local, started here; false for a real pool named by the environment. */
  local: boolean;
  /** The code cognito-local would have e-mailed to `email` after SignUp (waits for it briefly). */
  confirmationCode(email: string): Promise<string>;
  /** cognito-local's signing key pair, made for this stack (JSON: `private` and `public`, each `jwk` and `pem`); undefined for a real pool. */
  signingKeyFile: string | undefined;
}

export interface StackOptions {
  /** Names the folder under .local/ that holds this stack's data. */
  name: string;
  ports?: Partial<StackPorts>;
  /** Progress lines for people watching, and the supervisor's lines once it runs (a part died, is back). */
  progress?: (line: string) => void;
  /** Every line serverless-offline prints (the functions' JSON logs among them). */
  output?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Aborting it during start-up stops what started so far; startStack() then rejects. */
  signal?: AbortSignal;
}

export interface RunningStack {
  apiUrl: string;
  wsUrl: string;
  frontendUrl: string;
  docsUrl: string;
  kafkaBrokers: string[];
  ordersDatabaseUrl: string;
  paymentsDatabaseUrl: string;
  /** undefined with AUTH=off. */
  identity: StackIdentity | undefined;
  /** Zipkin's UI (or TRACES_URL, when OTEL_TRACES_EXPORTER sends the spans elsewhere); undefined with TRACES=off. */
  tracesUrl: string | undefined;
  /** Resolves once the stack's Zipkin answers, which it does a few seconds after the shop (it is started only then); rejects if it could not start, or if this stack runs none. */
  zipkinReady(): Promise<void>;
  stop(): Promise<void>;
  /** Kills the part as `kill -9` would (or with `signal`); the supervisor notices and restarts it, waiting `outageMs` first when given. Resolves once the part is back and ready. */
  kill(part: PartName, options?: { signal?: NodeJS.Signals; outageMs?: number }): Promise<void>;
  pidOf(part: PartName): number | undefined;
  /** Resolves if a part could not be brought back, once everything else was stopped. */
  failed: Promise<Error>;
}

async function timed<T>(progress: (line: string) => void, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  progress(`… ${what}`);
  const result = await work();
  progress(`✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/**
 * The whole shop on this machine: Kafka and two Postgres servers (unless KAFKA_BROKERS,
 * ORDERS_DATABASE_URL and PAYMENTS_DATABASE_URL point at existing ones), cognito-local with a user
 * pool and an app client (unless AUTH=off, or COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID name a real
 * pool), migrations, topics, then serverless-offline with the Kafka event source, then the frontend. Each process it starts
 * is supervised: one that dies is started again on its data. stop() undoes it in reverse. Once the
 * shop serves, Zipkin starts in the background for the functions' spans (unless TRACES=off): it
 * never delays the shop, and a Zipkin that cannot start or be brought back only costs the spans.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);
  const dir = path.join(LOCAL_DIR, options.name);
  const kafkaBrokers = env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(",") : [`127.0.0.1:${ports.kafka}`];
  const ordersDatabaseUrl = env.ORDERS_DATABASE_URL ?? postgresUrl(ports.ordersDb, "orders");
  const paymentsDatabaseUrl = env.PAYMENTS_DATABASE_URL ?? postgresUrl(ports.paymentsDb, "payments");
  const apiUrl = `http://127.0.0.1:${ports.http}`;
  const behindFront = ports.httpBehindFront ?? ports.http + 5;
  const wsUrl = `ws://127.0.0.1:${ports.websocket}`;
  const authOn = env.AUTH !== "off";
  const realPool = Boolean(env.COGNITO_USER_POOL_ID && env.COGNITO_CLIENT_ID);
  const codes = new Map<string, string>();
  const traces = tracesPlan(env, ports.zipkin);

  await stopLeftovers(dir, progress);
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  const hooks = {
    say: progress,
    record: (pid: number, marker: string) => void recordProcess(dir, pid, marker).catch(() => undefined),
    giveUp: (error: Error) => void stop().then(() => fail(error)),
  };
  const supervise = (part: Part) => new Supervisor(part, hooks);
  const kafka = env.KAFKA_BROKERS ? undefined : supervise(kafkaPart({ dir: path.join(dir, "kafka"), port: ports.kafka, controllerPort: ports.kafkaController, log: progress }));
  const ordersDb = env.ORDERS_DATABASE_URL
    ? undefined
    : supervise(postgresPart({ name: "ordersDb", label: "orders PostgreSQL", dir: path.join(dir, "orders-db"), port: ports.ordersDb, database: "orders" }));
  const paymentsDb = env.PAYMENTS_DATABASE_URL
    ? undefined
    : supervise(postgresPart({ name: "paymentsDb", label: "payments PostgreSQL", dir: path.join(dir, "payments-db"), port: ports.paymentsDb, database: "payments" }));
  const cognito =
    authOn && !realPool
      ? supervise(
          identityProviderPart({
            dir: path.join(dir, "cognito"),
            port: ports.cognito,
            onConfirmationCode: (email, code) => {
              codes.set(email.toLowerCase(), code);
              progress(`✉ confirmation code for ${email}: ${code} (cognito-local e-mails nothing)`);
            },
          }),
        )
      : undefined;
  let identity: StackIdentity | undefined;
  // Filled in once the user pool exists; serverless-offline reads it when it starts.
  const offlineEnv: NodeJS.ProcessEnv = {
    ...env,
    ORDERS_DATABASE_URL: ordersDatabaseUrl,
    PAYMENTS_DATABASE_URL: paymentsDatabaseUrl,
    KAFKA_BROKERS: kafkaBrokers.join(","),
    LAMBDA_ENDPOINT: `http://127.0.0.1:${ports.lambda}`,
    WEBSOCKET_ENDPOINT: `http://127.0.0.1:${ports.websocket}`,
    HTTP_PORT: String(behindFront),
    WEBSOCKET_PORT: String(ports.websocket),
    LAMBDA_PORT: String(ports.lambda),
    // CORS: only the page's own origin may call the API from a browser.
    FRONTEND_ORIGINS: env.FRONTEND_ORIGINS ?? `http://127.0.0.1:${ports.frontend},http://localhost:${ports.frontend}`,
    AUTH: authOn ? "on" : "off",
    LOCAL_HANDLERS: "source",
    ...traces.offlineEnv,
  };
  const offline = supervise(offlinePart({ dir, apiUrl: `http://127.0.0.1:${behindFront}`, output: options.output ?? (() => undefined), progress, env: offlineEnv }));
  const front = supervise(
    frontPart({ host: env.OFFLINE_HOST ?? "127.0.0.1", port: ports.http, targetPort: behindFront, maxInFlight: FRONT_MAX_IN_FLIGHT, logFile: path.join(dir, "front.log") }),
  );
  // Zipkin serves whoever reads traces, not the shop: no one waits for it, and one that cannot be
  // brought back leaves the shop running.
  const zipkinDir = path.join(dir, "zipkin");
  const zipkinInstall = new AbortController();
  let zipkinServes = false;
  const zipkin = traces.zipkin
    ? new Supervisor(zipkinPart({ dir: zipkinDir, port: ports.zipkin, log: progress, signal: zipkinInstall.signal }), {
        say: (line) => {
          // The first start's attempts are summed up in one line (startZipkin); its deaths later are told as any part's.
          if (zipkinServes) progress(line);
        },
        record: hooks.record,
        giveUp: () => progress("! the shop runs on without Zipkin: the functions' spans are dropped"),
      })
    : undefined;
  const parts = new Map<PartName, Supervisor>();
  for (const supervisor of [kafka, ordersDb, paymentsDb, cognito, offline, front, zipkin]) if (supervisor) parts.set(supervisor.part.name, supervisor);

  let frontend: Awaited<ReturnType<typeof startFrontend>> | undefined;
  let stopping: Promise<void> | undefined;
  // What serves requests stops first (frontend, then serverless-offline and its consumers), the
  // infrastructure under it last.
  const stop = () =>
    (stopping ??= (async () => {
      zipkinInstall.abort();
      const safely = (undo: () => Promise<void> | undefined) => Promise.resolve(undo()).catch((error: unknown) => progress(`! while stopping: ${String(error)}`));
      await safely(() => frontend?.stop());
      await safely(() => front.stop());
      await safely(() => offline.stop());
      await Promise.all([kafka, ordersDb, paymentsDb, cognito, zipkin].map((part) => safely(() => part?.stop())));
    })());

  // Each database is migrated as soon as it is up, the topics made as soon as Kafka is; the
  // functions start only then, so they never meet an unmigrated database or a missing topic.
  const bringUp = async () => {
    const infra = (supervisor: Supervisor | undefined, what: string) => (supervisor ? timed(progress, what, () => supervisor.start()) : Promise.resolve());
    await Promise.all([
      infra(kafka, `Kafka broker (KRaft) on ${kafkaBrokers[0]}`).then(() => timed(progress, "topics", () => ensureTopics(kafkaBrokers, ALL_TOPICS))),
      infra(ordersDb, `orders PostgreSQL on 127.0.0.1:${ports.ordersDb}`).then(() =>
        // Both services carry the same outbox, inbox and idempotency-key tables, each in its own database.
        timed(progress, "orders migrations", () => migrate(ordersDatabaseUrl, MIGRATION_FOLDERS.orders)),
      ),
      infra(paymentsDb, `payments PostgreSQL on 127.0.0.1:${ports.paymentsDb}`).then(() =>
        timed(progress, "payments migrations", () => migrate(paymentsDatabaseUrl, MIGRATION_FOLDERS.payments)),
      ),
      infra(cognito, `Cognito (cognito-local) on ${identityProviderUrl(ports.cognito)}`).then(async () => {
        if (!authOn) return;
        const pool = cognito
          ? await timed(progress, "user pool and app client", () => createUserPool(identityProviderUrl(ports.cognito)))
          : realUserPool(env);
        identity = {
          ...pool,
          local: Boolean(cognito),
          confirmationCode: (email) => confirmationCode(codes, email),
          signingKeyFile: cognito ? signingKeyFile(path.join(dir, "cognito")) : undefined,
        };
        Object.assign(offlineEnv, { COGNITO_USER_POOL_ID: pool.userPoolId, COGNITO_CLIENT_ID: pool.clientId, COGNITO_ISSUER: pool.issuer });
      }),
    ]);
    await timed(progress, `serverless-offline on 127.0.0.1:${behindFront} and the Kafka event source`, () => offline.start());
    await timed(progress, `HTTP front on ${apiUrl} (at most ${FRONT_MAX_IN_FLIGHT} requests at once)`, () => front.start());
    if (stopping) throw new Error("stopped");
    frontend = await startFrontend({
      port: ports.frontend,
      host: env.OFFLINE_HOST ?? "127.0.0.1",
      apiUrl,
      wsUrl,
      signIn: identity && { clientId: identity.clientId, region: identity.region, endpoint: identity.endpoint, local: identity.local },
      tracesUrl: traces.tracesUrl,
    });
    if (stopping) await frontend.stop(); // stop() came while it was opening
    else if (zipkin) {
      zipkinStarted = startZipkin(zipkin);
      zipkinStarted.catch(() => undefined); // told in a progress line; zipkinReady() hands it on
    }
  };
  let zipkinStarted: Promise<void> | undefined;
  const startZipkin = async (supervisor: Supervisor) => {
    const since = Date.now();
    let installed = false;
    try {
      // A first download takes longer than any start should: it is not bounded by the part's start time.
      await ensureZipkin(progress, { signal: zipkinInstall.signal });
      installed = true;
      await supervisor.start();
      zipkinServes = true;
      progress(`✓ Zipkin on ${traces.tracesUrl} (${((Date.now() - since) / 1000).toFixed(1)} s after the shop)`);
    } catch (error) {
      if (!stopping) {
        const why = (error instanceof Error ? error.message : String(error)).split("\n")[0];
        progress(`! Zipkin did not start, so the shop runs without traces (the functions' spans are dropped): ${why}${installed ? ` (its log: ${zipkinLogFile(zipkinDir)})` : ""}`);
      }
      throw error;
    }
  };
  const started = bringUp();
  started.catch(() => undefined); // a start-up given up on still fails later, with nobody listening
  const aborted = new Promise<never>((_, reject) => {
    const abort = () => reject(new Error("start-up interrupted"));
    if (options.signal?.aborted) abort();
    options.signal?.addEventListener("abort", abort, { once: true });
  });
  aborted.catch(() => undefined); // an abort after start-up is no one's concern
  try {
    await Promise.race([started, aborted, failed.then((error) => Promise.reject(error))]);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    apiUrl,
    wsUrl,
    frontendUrl: frontend!.url,
    docsUrl: frontend!.docsUrl,
    kafkaBrokers,
    ordersDatabaseUrl,
    paymentsDatabaseUrl,
    identity,
    tracesUrl: traces.tracesUrl,
    zipkinReady: () => zipkinStarted ?? Promise.reject(new Error(traces.without ?? "Zipkin was not started: the stack stopped first")),
    stop,
    failed,
    pidOf: (part) => parts.get(part)?.pid,
    kill: async (part, { signal, outageMs } = {}) => {
      const supervisor = parts.get(part);
      if (!supervisor) throw new Error(`${part} was not started by this stack (the environment points at an existing server), so it is not supervised`);
      await supervisor.kill(signal, outageMs);
    },
  };
}

/** The pool COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID name: a real one, on AWS. */
function realUserPool(env: NodeJS.ProcessEnv): UserPool {
  const userPoolId = env.COGNITO_USER_POOL_ID!;
  const region = userPoolId.split("_")[0]!;
  return {
    endpoint: `https://cognito-idp.${region}.amazonaws.com`,
    region,
    userPoolId,
    clientId: env.COGNITO_CLIENT_ID!,
    issuer: env.COGNITO_ISSUER ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
  };
}

async function confirmationCode(codes: Map<string, string>, email: string): Promise<string> {
  const key = email.toLowerCase();
  for (let waited = 0; waited < 5_000; waited += 50) {
    const code = codes.get(key);
    if (code) return code;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no confirmation code for ${email}: only cognito-local prints them, after SignUp`);
}


/** Local runs need these, whatever the shell has: no AWS account, no metadata probes (toolchain G1). */
const LOCAL_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  NPM_CONFIG_UPDATE_NOTIFIER: "false",
  SLS_TELEMETRY_DISABLED: "1",
};

/** `sls offline start`: ready once its functions serve, its Kafka event source said so, and the health check answers 200. */
function offlinePart(options: { dir: string; apiUrl: string; env: NodeJS.ProcessEnv; output: (line: string) => void; progress: (line: string) => void }): Part {
  const cli = path.join(ROOT, "node_modules", "serverless", "bin", "serverless.js");
  // In-process by default: a worker thread per concurrent request (the default) means 100 cold
  // starts for a burst of 100 orders, which a 2-core machine cannot absorb. OFFLINE_WORKERS=1
  // brings workers back.
  const mode = options.env.OFFLINE_WORKERS === "1" ? [] : ["--useInProcess"];
  const logFile = path.join(options.dir, "offline.log");
  return {
    name: "offline",
    label: "serverless-offline",
    marker: `GOZON_STACK=${options.dir}`,
    startTimeoutMs: 120_000,
    stopGraceMs: 5_000,
    async launch(attempt) {
      if (attempt.fresh) await rm(logFile, { force: true });
      await mkdir(options.dir, { recursive: true });
      let consuming = false;
      // OFFLINE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=…" profiles the process every function runs in.
      const nodeFlags = (options.env.OFFLINE_NODE_FLAGS ?? "").split(" ").filter(Boolean);
      const child = attempt.spawn(process.execPath, [...nodeFlags, cli, "offline", "start", "--noSponsor", ...mode], {
        cwd: ROOT,
        // serverless-offline prints two lines per invocation, synchronously into a pipe: at "warning"
        // it keeps them to itself, which frees the single event loop every function runs on.
        env: { ...options.env, ...LOCAL_AWS_ENV, GOZON_STACK: options.dir, SLS_LOG_LEVEL: options.env.OFFLINE_LOG_LEVEL ?? "warning" },
        logFile,
        stopSignal: "SIGINT",
        onLine: (line) => {
          options.output(line);
          if (line.includes("Kafka event source ready")) consuming = true;
        },
      });
      // Each step's time on the first start, as the other parts show theirs.
      const since = Date.now();
      const step = async <T>(what: string, done: Promise<T>): Promise<T> => {
        const result = await done;
        if (attempt.fresh) options.progress(`  ✓ ${what} (${((Date.now() - since) / 1000).toFixed(1)} s)`);
        return result;
      };
      const answers = (pathname: string) => async () => {
        const response = await fetch(`${options.apiUrl}${pathname}`, { signal: AbortSignal.timeout(5_000) });
        if (!response.ok) throw new Error(`${response.status} ${(await response.text()).slice(0, 300)}`);
        return true;
      };
      await Promise.all([
        step("functions serve HTTP (GET /api/openapi.json)", attempt.wait(answers("/api/openapi.json"), { what: `GET ${options.apiUrl}/api/openapi.json to answer 200`, exited: child, intervalMs: 100 })),
        step("Kafka event source: consumer groups joined", attempt.wait(() => consuming, { what: "the Kafka event source", exited: child, intervalMs: 100 })),
      ]);
      await step("GET /api/health answers 200", attempt.wait(answers("/api/health"), { what: `GET ${options.apiUrl}/api/health to answer 200`, exited: child, intervalMs: 100 }));
      return child;
    },
  };
}
