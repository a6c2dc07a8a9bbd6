import path from "node:path";
import { startFrontend } from "./frontend/server.ts";
import { recordProcess, stopLeftovers } from "./core/leftovers.ts";
import { LOCAL_DIR } from "./core/paths.ts";
import { MetricsRegistry } from "./metrics/registry.ts";
import { postgresUrl } from "./postgres/instance.ts";
import { DEFAULT_PORTS, type RunningStack, type StackIdentity, type StackOptions } from "./stack-api.ts";
import { bringUp, stopInOrder, untilStarted } from "./stack-lifecycle.ts";
import { infrastructureLayers, servingLayers, type StackPlan } from "./stack-parts.ts";
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
  const plan = planOf(options);
  const { dir, progress, traces } = plan;
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

  const { layers: infrastructure, identity } = infrastructureLayers(plan, supervise);
  const metrics = new MetricsRegistry();
  const serving = servingLayers(plan, supervise, {
    identity,
    exporterEnv: bridge?.exporterEnv,
    output: options.output,
    metrics,
  });
  // Last, once the page serves, and waited for by no one: what only serves people reading traces.
  const zipkin = traces.zipkin
    ? backgroundZipkin({
        dir: path.join(dir, "zipkin"),
        port: plan.ports.zipkin,
        progress,
        record: hooks.record,
        signal: stopped.signal,
      })
    : undefined;
  const background = [zipkin?.supervisor];

  let frontend: Frontend | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopped.abort();
      await stopInOrder({ frontend, serving, infrastructure, background, bridge }, progress);
    })());

  let zipkinStarted: Promise<void> | undefined;
  const started = (async () => {
    await bringUp(infrastructure, serving, progress);
    if (stopped.signal.aborted) throw new Error("stopped");
    frontend = await startPage(plan, identity(), metrics);
    if (stopped.signal.aborted)
      await frontend.stop(); // stop() came while it was opening
    else if (zipkin) {
      zipkinStarted = zipkin.start();
      zipkinStarted.catch(() => undefined); // told in a progress line; zipkinReady() hands it on
    }
  })();
  try {
    await untilStarted(started, options.signal, failed);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    apiUrl: plan.apiUrl,
    wsUrl: plan.wsUrl,
    frontendUrl: frontend!.url,
    docsUrl: frontend!.docsUrl,
    metricsUrl: `${frontend!.url}/metrics`,
    kafkaBrokers: plan.kafkaBrokers,
    ordersDatabaseUrl: plan.databases.orders.url,
    paymentsDatabaseUrl: plan.databases.payments.url,
    identity: identity(),
    tracesUrl: traces.tracesUrl,
    zipkinReady: () =>
      zipkinStarted ?? Promise.reject(new Error(traces.without ?? "Zipkin was not started: the stack stopped first")),
    stop,
    failed,
    ...partControls([...infrastructure, ...serving].map((layer) => layer.supervisor).concat(background)),
  };
}

/** Where everything listens, from the options and the environment (which may name existing servers). */
function planOf(options: StackOptions): StackPlan {
  const ports = { ...DEFAULT_PORTS, ...options.ports };
  const env = options.env ?? process.env;
  return {
    ports,
    env,
    progress: options.progress ?? (() => undefined),
    dir: path.join(LOCAL_DIR, options.name),
    host: env.OFFLINE_HOST ?? "127.0.0.1",
    apiUrl: `http://127.0.0.1:${ports.http}`,
    wsUrl: `ws://127.0.0.1:${ports.websocket}`,
    behindFront: ports.httpBehindFront ?? ports.http + 5,
    kafkaBrokers: env.KAFKA_BROKERS ? env.KAFKA_BROKERS.split(",") : [`127.0.0.1:${ports.kafka}`],
    existingBroker: Boolean(env.KAFKA_BROKERS),
    databases: {
      orders: {
        url: env.ORDERS_DATABASE_URL ?? postgresUrl(ports.ordersDb, "orders"),
        existing: Boolean(env.ORDERS_DATABASE_URL),
      },
      payments: {
        url: env.PAYMENTS_DATABASE_URL ?? postgresUrl(ports.paymentsDb, "payments"),
        existing: Boolean(env.PAYMENTS_DATABASE_URL),
      },
    },
    authOn: env.AUTH !== "off",
    realPool: Boolean(env.COGNITO_USER_POOL_ID && env.COGNITO_CLIENT_ID),
    traces: tracesPlan(env, ports.zipkin),
  };
}

type Frontend = Awaited<ReturnType<typeof startFrontend>>;

/** The page, /docs/ and the page's sign-in calls, started once the shop serves. */
function startPage(plan: StackPlan, identity: StackIdentity | undefined, metrics: MetricsRegistry): Promise<Frontend> {
  return startFrontend({
    port: plan.ports.frontend,
    host: plan.host,
    apiUrl: plan.apiUrl,
    wsUrl: plan.wsUrl,
    signIn: identity && {
      clientId: identity.clientId,
      region: identity.region,
      endpoint: identity.endpoint,
      local: identity.local,
    },
    tracesUrl: plan.traces.tracesUrl,
    metrics,
  });
}

/** pidOf and kill, for the parts this stack supervises (not those the environment pointed at). */
function partControls(supervisors: Array<Supervisor | undefined>): Pick<RunningStack, "pidOf" | "kill"> {
  const parts = new Map<PartName, Supervisor>();
  for (const supervisor of supervisors) if (supervisor) parts.set(supervisor.part.name, supervisor);
  return {
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
