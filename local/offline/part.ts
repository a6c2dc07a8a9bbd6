import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import type { UserPool } from "../cognito/identity-provider.ts";
import { ROOT } from "../core/paths.ts";
import type { Part } from "../core/supervisor.ts";
import { warmUpFunctions } from "./warm-up.ts";

/** Local runs need these, whatever the shell has: no AWS account, no metadata probes (toolchain G1). */
const LOCAL_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  NPM_CONFIG_UPDATE_NOTIFIER: "false",
  SLS_TELEMETRY_DISABLED: "1",
};

/** What the parts started before serverless-offline give it: where the functions find everything. */
export interface OfflineInputs {
  ordersDatabaseUrl: string;
  paymentsDatabaseUrl: string;
  kafkaBrokers: string[];
  ports: {
    /** Its own HTTP port, behind the front. */
    http: number;
    websocket: number;
    lambda: number;
    /** The page's, whose origin alone may call the API from a browser. */
    frontend: number;
  };
  auth: boolean;
  /** From the traces plan (local/zipkin/part.ts), over the environment's own. */
  traces: Record<string, string>;
}

/** serverless-offline's environment: the stack's, with what the parts before it give (the user pool aside, see OfflinePartOptions). */
export function offlineEnv(env: NodeJS.ProcessEnv, inputs: OfflineInputs): NodeJS.ProcessEnv {
  const { ports } = inputs;
  return {
    ...env,
    ORDERS_DATABASE_URL: inputs.ordersDatabaseUrl,
    PAYMENTS_DATABASE_URL: inputs.paymentsDatabaseUrl,
    KAFKA_BROKERS: inputs.kafkaBrokers.join(","),
    LAMBDA_ENDPOINT: `http://127.0.0.1:${ports.lambda}`,
    WEBSOCKET_ENDPOINT: `http://127.0.0.1:${ports.websocket}`,
    HTTP_PORT: String(ports.http),
    WEBSOCKET_PORT: String(ports.websocket),
    LAMBDA_PORT: String(ports.lambda),
    // CORS: only the page's own origin may call the API from a browser.
    FRONTEND_ORIGINS: env.FRONTEND_ORIGINS ?? `http://127.0.0.1:${ports.frontend},http://localhost:${ports.frontend}`,
    AUTH: inputs.auth ? "on" : "off",
    LOCAL_HANDLERS: "source",
    ...inputs.traces,
  };
}

export interface OfflinePartOptions {
  /** The stack's folder: holds offline.log, and marks every process of this stack's serverless-offline. */
  dir: string;
  /** Its own HTTP API, behind the front. */
  apiUrl: string;
  /** Its Lambda endpoint (Invoke), which the warm-up goes through. */
  lambdaEndpoint: string;
  /** See offlineEnv(). */
  env: NodeJS.ProcessEnv;
  /** The user pool whose tokens the functions accept (undefined with AUTH=off): asked at each launch, since it exists only once the identity provider serves. */
  pool: () => UserPool | undefined;
  /** Every line it prints (the functions' JSON logs among them). */
  output: (line: string) => void;
  progress: (line: string) => void;
}

/**
 * `sls offline start`: ready once its functions serve, every function has loaded its code (the
 * warm-up event), its Kafka event source said so, and the health check answers 200.
 */
export function offlinePart(options: OfflinePartOptions): Part {
  const cli = path.join(ROOT, "node_modules", "serverless", "bin", "serverless.js");
  const { env } = options;
  // In-process by default: a worker thread per concurrent request (the default) means 100 cold
  // starts for a burst of 100 orders, which a 2-core machine cannot absorb. OFFLINE_WORKERS=1
  // brings workers back.
  const mode = env.OFFLINE_WORKERS === "1" ? [] : ["--useInProcess"];
  const logFile = path.join(options.dir, "offline.log");
  return {
    name: "offline",
    label: "serverless-offline",
    marker: `GOZON_STACK=${options.dir}`,
    startTimeoutMs: 120_000,
    stopGraceMs: 5_000,
    async launch(attempt) {
      const pool = options.pool();
      if (attempt.fresh) await rm(logFile, { force: true });
      await mkdir(options.dir, { recursive: true });
      let consuming = false;
      // OFFLINE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=…" profiles the process every function runs in.
      const nodeFlags = (env.OFFLINE_NODE_FLAGS ?? "").split(" ").filter(Boolean);
      const child = attempt.spawn(process.execPath, [...nodeFlags, cli, "offline", "start", "--noSponsor", ...mode], {
        cwd: ROOT,
        // serverless-offline prints two lines per invocation, synchronously into a pipe: at "warning"
        // it keeps them to itself, which frees the single event loop every function runs on.
        env: {
          ...env,
          ...(pool && {
            COGNITO_USER_POOL_ID: pool.userPoolId,
            COGNITO_CLIENT_ID: pool.clientId,
            COGNITO_ISSUER: pool.issuer,
          }),
          ...LOCAL_AWS_ENV,
          GOZON_STACK: options.dir,
          SLS_LOG_LEVEL: env.OFFLINE_LOG_LEVEL ?? "warning",
        },
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
        step(
          "functions serve HTTP (GET /api/openapi.json)",
          attempt.wait(answers("/api/openapi.json"), {
            what: `GET ${options.apiUrl}/api/openapi.json to answer 200`,
            exited: child,
            intervalMs: 100,
          }),
        ).then(() =>
          // Loading code blocks the one event loop every function runs on: done now, not during the first burst.
          step("every function's code loaded (a warm-up call each)", warmUpFunctions(options.lambdaEndpoint, 60_000)),
        ),
        step(
          "Kafka event source: consumer groups joined",
          attempt.wait(() => consuming, { what: "the Kafka event source", exited: child, intervalMs: 100 }),
        ),
      ]);
      await step(
        "GET /api/health answers 200",
        attempt.wait(answers("/api/health"), {
          what: `GET ${options.apiUrl}/api/health to answer 200`,
          exited: child,
          intervalMs: 100,
        }),
      );
      return child;
    },
  };
}
