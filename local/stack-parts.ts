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
import type { Part, Supervisor } from "./core/supervisor.ts";
import { frontPart } from "./front/part.ts";
import type { MetricsRegistry } from "./metrics/registry.ts";
import { ensureTopics, kafkaPart } from "./kafka/broker.ts";
import { offlineEnv, offlinePart } from "./offline/part.ts";
import { postgresPart } from "./postgres/instance.ts";
import type { StackIdentity, StackPorts } from "./stack-api.ts";
import type { TracesPlan } from "./zipkin/part.ts";

// The parts startStack (stack.ts) supervises, each with what follows it as soon as it serves.

/** Where everything of one stack listens and keeps its data, settled before anything starts. */
export interface StackPlan {
  ports: StackPorts;
  env: NodeJS.ProcessEnv;
  progress: (line: string) => void;
  /** This stack's folder under .local/. */
  dir: string;
  /** The interface the front and the page listen on (0.0.0.0 inside a container). */
  host: string;
  apiUrl: string;
  wsUrl: string;
  /** serverless-offline's own HTTP port, behind the front. */
  behindFront: number;
  kafkaBrokers: string[];
  /** Given when the environment points at an existing broker (KAFKA_BROKERS): none is started. */
  existingBroker: boolean;
  databases: Record<"orders" | "payments", { url: string; existing: boolean }>;
  authOn: boolean;
  /** COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID name a real pool: no cognito-local. */
  realPool: boolean;
  traces: TracesPlan;
}

/** A supervised part as the stack composes it. */
export interface Layer {
  /** Undefined when the environment points at an existing server instead. */
  supervisor: Supervisor | undefined;
  /** Its progress line while it starts. */
  what: string;
  /** What needs it, done as soon as it serves (topics, migrations, the user pool). */
  followedBy?: () => Promise<unknown>;
  /** serverless-offline may launch before it serves: the functions wait for it themselves. */
  servingWaitsForIt?: boolean;
}

export type Supervise = (part: Part) => Supervisor;

/**
 * What the front passes on at once (local/front/adaptive-limit.ts): from a fresh start a burst of
 * 100 orders is taken whole; then the limit follows the latency, and what is over it gets 429.
 */
const FRONT_LIMIT = { initial: 128, min: 16, max: 256 };

export async function timed<T>(progress: (line: string) => void, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  progress(`… ${what}`);
  const result = await work();
  progress(`✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/**
 * Started all at once, each followed at once by what needs it: the broker and its topics, both
 * databases and their migrations, the identity provider and its user pool. `identity()` is the
 * user pool once its layer is done (undefined with AUTH=off).
 */
export function infrastructureLayers(
  plan: StackPlan,
  supervise: Supervise,
): { layers: Layer[]; identity: () => StackIdentity | undefined } {
  const signIn = identityLayer(plan, supervise);
  const layers = [
    brokerLayer(plan, supervise),
    // Both services carry the same outbox, inbox and idempotency-key tables, each in its own database.
    databaseLayer(plan, supervise, "ordersDb", "orders"),
    databaseLayer(plan, supervise, "paymentsDb", "payments"),
    signIn.layer,
  ];
  return { layers, identity: signIn.identity };
}

function brokerLayer(plan: StackPlan, supervise: Supervise): Layer {
  const { ports, dir, progress, kafkaBrokers } = plan;
  return {
    supervisor: plan.existingBroker
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
  };
}

/** A database of the stack's own, unless the environment names one, then its migrations. */
function databaseLayer(
  plan: StackPlan,
  supervise: Supervise,
  name: "ordersDb" | "paymentsDb",
  db: "orders" | "payments",
): Layer {
  const port = plan.ports[name];
  const { url, existing } = plan.databases[db];
  return {
    supervisor: existing
      ? undefined
      : supervise(
          postgresPart({ name, label: `${db} PostgreSQL`, dir: path.join(plan.dir, `${db}-db`), port, database: db }),
        ),
    what: `${db} PostgreSQL on 127.0.0.1:${port}`,
    followedBy: () => timed(plan.progress, `${db} migrations`, () => migrate(url, MIGRATION_FOLDERS[db])),
  };
}

/**
 * cognito-local (unless AUTH=off or a real pool), followed by the user pool: what the identity
 * provider gives serverless-offline (the pool) and the page (sign-in), set before either starts.
 */
function identityLayer(
  plan: StackPlan,
  supervise: Supervise,
): { layer: Layer; identity: () => StackIdentity | undefined } {
  const { ports, progress, env, authOn } = plan;
  const dir = path.join(plan.dir, "cognito");
  let identity: StackIdentity | undefined;
  const codes = new ConfirmationCodes();
  const cognito =
    authOn && !plan.realPool
      ? supervise(
          identityProviderPart({
            dir,
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
    if (cognito) await assertServesStackKey(pool.issuer, signingKeyFile(dir));
    identity = {
      ...pool,
      local: Boolean(cognito),
      confirmationCode: (email) => codes.of(email),
      signingKeyFile: cognito ? signingKeyFile(dir) : undefined,
    };
  };
  return {
    layer: {
      supervisor: cognito,
      what: `Cognito (cognito-local) on ${identityProviderUrl(ports.cognito)}`,
      followedBy: signIn,
    },
    identity: () => identity,
  };
}

/**
 * Started one after the other, once the infrastructure serves: the functions, on the brokers,
 * databases and user pool the infrastructure gave them, and the front that admits requests to them.
 */
export function servingLayers(
  plan: StackPlan,
  supervise: Supervise,
  inputs: {
    identity: () => StackIdentity | undefined;
    /** The OTLP bridge's exporter settings, over the traces plan's. */
    exporterEnv: Record<string, string> | undefined;
    output: ((line: string) => void) | undefined;
    /** Takes in the functions' and the front's metrics (EMF lines), as CloudWatch reads them on AWS. */
    metrics: MetricsRegistry;
  },
): Array<Layer & { supervisor: Supervisor }> {
  const { ports, behindFront, apiUrl, dir } = plan;
  const offline = offlinePart({
    dir,
    apiUrl: `http://127.0.0.1:${behindFront}`,
    lambdaEndpoint: `http://127.0.0.1:${ports.lambda}`,
    env: offlineEnv(plan.env, {
      ordersDatabaseUrl: plan.databases.orders.url,
      paymentsDatabaseUrl: plan.databases.payments.url,
      kafkaBrokers: plan.kafkaBrokers,
      ports: { ...ports, http: behindFront },
      auth: plan.authOn,
      traces: { ...plan.traces.offlineEnv, ...inputs.exporterEnv },
    }),
    pool: inputs.identity,
    output: (line) => {
      if (!inputs.metrics.readLine(line)) inputs.output?.(line);
    },
    progress: plan.progress,
  });
  const front = frontPart({
    host: plan.host,
    port: ports.http,
    targetPort: behindFront,
    limit: FRONT_LIMIT,
    logFile: path.join(dir, "front.log"),
    output: (line) => void inputs.metrics.readLine(line),
  });
  return [
    {
      supervisor: supervise(offline),
      what: `serverless-offline on 127.0.0.1:${behindFront} and the Kafka event source`,
    },
    {
      supervisor: supervise(front),
      what: `HTTP front on ${apiUrl} (${FRONT_LIMIT.initial} requests at once, then as latency allows)`,
    },
  ];
}
