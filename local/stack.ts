import path from "node:path";
import { migrate, MIGRATION_FOLDERS } from "../shared/db/migrate.ts";
import { ALL_TOPICS } from "../shared/contract/events.ts";
import {
  ConfirmationCodes,
  createUserPool,
  identityProviderPart,
  identityProviderUrl,
  realUserPool,
  signingKeyFile,
} from "./cognito/identity-provider.ts";
import { assertServesStackKey } from "./cognito/served-key.ts";
import { startFrontend } from "./frontend/server.ts";
import { frontPart } from "./front/part.ts";
import { ensureTopics, kafkaPart } from "./kafka/broker.ts";
import { recordProcess, stopLeftovers } from "./core/leftovers.ts";
import { offlineEnv, offlinePart } from "./offline/part.ts";
import { LOCAL_DIR } from "./core/paths.ts";
import { MetricsRegistry } from "./metrics/registry.ts";
import { postgresPart, postgresUrl } from "./postgres/instance.ts";
import { DEFAULT_PORTS, type RunningStack, type StackIdentity, type StackOptions } from "./stack-api.ts";
import { Supervisor, type Part, type PartName } from "./core/supervisor.ts";
import { backgroundZipkin } from "./zipkin/background.ts";
import { startOtlpBridge } from "./zipkin/otlp-bridge.ts";
import { tracesPlan } from "./zipkin/part.ts";

export type { PartName } from "./core/supervisor.ts";
export {
  DEFAULT_PORTS,
  type RunningStack,
  type StackIdentity,
  type StackOptions,
  type StackPorts,
} from "./stack-api.ts";

/**
 * What the front passes on at once (local/front/adaptive-limit.ts): from a fresh start a burst of
 * 100 orders is taken whole; then the limit follows the latency, and what is over it gets 429.
 */
const FRONT_LIMIT = { initial: 128, min: 16, max: 256 };

async function timed<T>(progress: (line: string) => void, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  progress(`… ${what}`);
  const result = await work();
  progress(`✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/** A supervised part as the stack composes it. */
interface Layer {
  /** Undefined when the environment points at an existing server instead. */
  supervisor: Supervisor | undefined;
  /** Its progress line while it starts. */
  what: string;
  /** What needs it, done as soon as it serves (topics, migrations, the user pool). */
  followedBy?: () => Promise<unknown>;
  /** serverless-offline may launch before it serves: the functions wait for it themselves. */
  servingWaitsForIt?: boolean;
}

/**
 * The whole shop on this machine: Kafka and two Postgres servers (unless KAFKA_BROKERS,
 * ORDERS_DATABASE_URL and PAYMENTS_DATABASE_URL point at existing ones), cognito-local with a user
 * pool and an app client (unless AUTH=off, or COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID name a real
 * pool), migrations, topics, then serverless-offline with the Kafka event source, then the frontend. Each process it starts
 * is supervised: one that dies is started again on its data. stop() undoes it in reverse. Once the
 * shop serves, Zipkin starts in the background for the functions' spans (unless TRACES=off), which
 * they export as OTLP to a bridge in this process: it never delays the shop, and a Zipkin that
 * cannot start or be brought back only costs the spans.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);
  const dir = path.join(LOCAL_DIR, options.name);
  const kafkaBrokers = env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(",") : [`127.0.0.1:${ports.kafka}`];
  const ordersDatabaseUrl = env.ORDERS_DATABASE_URL ?? postgresUrl(ports.ordersDb, "orders");
  const paymentsDatabaseUrl = env.PAYMENTS_DATABASE_URL ?? postgresUrl(ports.paymentsDb, "payments");
  const host = env.OFFLINE_HOST ?? "127.0.0.1";
  const apiUrl = `http://127.0.0.1:${ports.http}`;
  const behindFront = ports.httpBehindFront ?? ports.http + 5;
  const wsUrl = `ws://127.0.0.1:${ports.websocket}`;
  const authOn = env.AUTH !== "off";
  const realPool = Boolean(env.COGNITO_USER_POOL_ID && env.COGNITO_CLIENT_ID);
  const traces = tracesPlan(env, ports.zipkin);

  await stopLeftovers(dir, progress);
  // In this process, before serverless-offline, whose functions are told where it listens: it keeps
  // nothing, so there is nothing to restart, and it goes only when the stack does.
  const bridge = traces.bridgeTo ? await startOtlpBridge({ zipkinUrl: traces.bridgeTo }) : undefined;
  if (bridge) progress(`✓ the functions' spans go as OTLP to ${bridge.url}, which hands them to Zipkin`);
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  // Aborted as stop() begins: what is under way in the background (a Zipkin download) ends too.
  const stopped = new AbortController();
  const hooks = {
    say: progress,
    record: (pid: number, marker: string) => void recordProcess(dir, pid, marker).catch(() => undefined),
    giveUp: (error: Error) => void stop().then(() => fail(error)),
  };
  const supervise = (part: Part) => new Supervisor(part, hooks);

  // What the identity provider gives serverless-offline (the user pool) and the page (sign-in), set before either starts.
  let identity: StackIdentity | undefined;
  const codes = new ConfirmationCodes();
  const cognito =
    authOn && !realPool
      ? supervise(
          identityProviderPart({
            dir: path.join(dir, "cognito"),
            port: ports.cognito,
            onConfirmationCode: (email, code) => {
              codes.delivered(email, code);
              progress(`✉ confirmation code for ${email}: ${code} (cognito-local e-mails nothing)`);
            },
          }),
        )
      : undefined;
  const signIn = async () => {
    if (!authOn) return;
    const pool = cognito
      ? await timed(progress, "user pool and app client", () => createUserPool(identityProviderUrl(ports.cognito)))
      : realUserPool(env);
    if (cognito) await assertServesStackKey(pool.issuer, signingKeyFile(path.join(dir, "cognito")));
    identity = {
      ...pool,
      local: Boolean(cognito),
      confirmationCode: (email) => codes.of(email),
      signingKeyFile: cognito ? signingKeyFile(path.join(dir, "cognito")) : undefined,
    };
  };

  // A database of the stack's own, unless the environment names one (`existing`), then its migrations.
  const database = (
    name: "ordersDb" | "paymentsDb",
    db: "orders" | "payments",
    port: number,
    url: string,
    existing?: string,
  ): Layer => ({
    supervisor: existing
      ? undefined
      : supervise(
          postgresPart({ name, label: `${db} PostgreSQL`, dir: path.join(dir, `${db}-db`), port, database: db }),
        ),
    what: `${db} PostgreSQL on 127.0.0.1:${port}`,
    followedBy: () => timed(progress, `${db} migrations`, () => migrate(url, MIGRATION_FOLDERS[db])),
  });

  // Started all at once, each followed at once by what needs it; serverless-offline starts only
  // after all of it, so the functions never meet an unmigrated database or a missing topic.
  const infrastructure: Layer[] = [
    {
      supervisor: env.KAFKA_BROKERS
        ? undefined
        : supervise(
            kafkaPart({
              dir: path.join(dir, "kafka"),
              port: ports.kafka,
              controllerPort: ports.kafkaController,
              log: progress,
            }),
          ),
      what: `Kafka broker (KRaft) on ${kafkaBrokers[0]}`,
      followedBy: () => timed(progress, "topics", () => ensureTopics(kafkaBrokers, ALL_TOPICS)),
      servingWaitsForIt: true,
    },
    // Both services carry the same outbox, inbox and idempotency-key tables, each in its own database.
    database("ordersDb", "orders", ports.ordersDb, ordersDatabaseUrl, env.ORDERS_DATABASE_URL),
    database("paymentsDb", "payments", ports.paymentsDb, paymentsDatabaseUrl, env.PAYMENTS_DATABASE_URL),
    {
      supervisor: cognito,
      what: `Cognito (cognito-local) on ${identityProviderUrl(ports.cognito)}`,
      followedBy: signIn,
    },
  ];
  // Then one after the other: the functions, on the brokers, databases and user pool the
  // infrastructure gave them, and the front that admits requests to them.
  const metrics = new MetricsRegistry();
  const offline = offlinePart({
    dir,
    apiUrl: `http://127.0.0.1:${behindFront}`,
    lambdaEndpoint: `http://127.0.0.1:${ports.lambda}`,
    env: offlineEnv(env, {
      ordersDatabaseUrl,
      paymentsDatabaseUrl,
      kafkaBrokers,
      ports: { ...ports, http: behindFront },
      auth: authOn,
      traces: { ...traces.offlineEnv, ...bridge?.exporterEnv },
    }),
    pool: () => identity,
    // The functions' metrics (EMF lines) are read here, as CloudWatch reads them on AWS.
    output: (line) => {
      if (!metrics.readLine(line)) options.output?.(line);
    },
    progress,
  });
  const front = frontPart({
    host,
    port: ports.http,
    targetPort: behindFront,
    limit: FRONT_LIMIT,
    logFile: path.join(dir, "front.log"),
    output: (line) => void metrics.readLine(line),
  });
  const serving: Array<Layer & { supervisor: Supervisor }> = [
    {
      supervisor: supervise(offline),
      what: `serverless-offline on 127.0.0.1:${behindFront} and the Kafka event source`,
    },
    {
      supervisor: supervise(front),
      what: `HTTP front on ${apiUrl} (${FRONT_LIMIT.initial} requests at once, then as latency allows)`,
    },
  ];
  // Last, once the page serves, and waited for by no one: what only serves people reading traces.
  const zipkin = traces.zipkin
    ? backgroundZipkin({
        dir: path.join(dir, "zipkin"),
        port: ports.zipkin,
        progress,
        record: hooks.record,
        signal: stopped.signal,
      })
    : undefined;
  const background = [zipkin?.supervisor];

  const parts = new Map<PartName, Supervisor>();
  for (const supervisor of [...infrastructure, ...serving].map((layer) => layer.supervisor).concat(background))
    if (supervisor) parts.set(supervisor.part.name, supervisor);

  let frontend: Awaited<ReturnType<typeof startFrontend>> | undefined;
  let stopping: Promise<void> | undefined;
  // What serves requests stops first (the page, the front, then serverless-offline and its
  // consumers), the infrastructure under it and the background parts last, all at once.
  const stop = () =>
    (stopping ??= (async () => {
      stopped.abort();
      const safely = (undo: () => Promise<void> | undefined) =>
        Promise.resolve(undo()).catch((error: unknown) => progress(`! while stopping: ${String(error)}`));
      await safely(() => frontend?.stop());
      for (const { supervisor } of serving.toReversed()) await safely(() => supervisor.stop());
      await Promise.all(
        [...infrastructure.map((layer) => layer.supervisor), ...background].map((supervisor) =>
          safely(() => supervisor?.stop()),
        ),
      );
      await safely(() => bridge?.stop());
    })());

  let zipkinStarted: Promise<void> | undefined;
  const bringUp = async () => {
    const up = infrastructure.map(({ supervisor, what, followedBy }) =>
      (supervisor ? timed(progress, what, () => supervisor.start()) : Promise.resolve()).then(followedBy),
    );
    // serverless-offline needs the databases migrated and the user pool before it launches; the
    // broker it waits for itself (its event source for its topics, its health check for the
    // broker), so its start, the slowest, overlaps the broker's instead of following it.
    for (const layer of up) layer.catch(() => undefined); // awaited below; a failure is not unhandled meanwhile
    await Promise.all(up.filter((_, i) => !infrastructure[i]!.servingWaitsForIt));
    for (const { supervisor, what } of serving) await timed(progress, what, () => supervisor.start());
    await Promise.all(up);
    if (stopped.signal.aborted) throw new Error("stopped");
    frontend = await startFrontend({
      port: ports.frontend,
      host,
      apiUrl,
      wsUrl,
      signIn: identity && {
        clientId: identity.clientId,
        region: identity.region,
        endpoint: identity.endpoint,
        local: identity.local,
      },
      tracesUrl: traces.tracesUrl,
      metrics,
    });
    if (stopped.signal.aborted)
      await frontend.stop(); // stop() came while it was opening
    else if (zipkin) {
      zipkinStarted = zipkin.start();
      zipkinStarted.catch(() => undefined); // told in a progress line; zipkinReady() hands it on
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
    metricsUrl: `${frontend!.url}/metrics`,
    kafkaBrokers,
    ordersDatabaseUrl,
    paymentsDatabaseUrl,
    identity,
    tracesUrl: traces.tracesUrl,
    zipkinReady: () =>
      zipkinStarted ?? Promise.reject(new Error(traces.without ?? "Zipkin was not started: the stack stopped first")),
    stop,
    failed,
    pidOf: (part) => parts.get(part)?.pid,
    kill: async (part, { signal, outageMs } = {}) => {
      const supervisor = parts.get(part);
      if (!supervisor)
        throw new Error(
          `${part} was not started by this stack (the environment points at an existing server), so it is not supervised`,
        );
      await supervisor.kill(signal, outageMs);
    },
  };
}
