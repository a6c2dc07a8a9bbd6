import type { UserPool } from "./cognito/identity-provider.ts";
import type { PartName } from "./core/supervisor.ts";

// What startStack (stack.ts) takes and gives: the stack's ports, options and running handle.

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

export const DEFAULT_PORTS: StackPorts = {
  http: 3000,
  websocket: 3001,
  lambda: 3002,
  frontend: 8000,
  kafka: 9092,
  kafkaController: 9093,
  ordersDb: 55432,
  paymentsDb: 55433,
  cognito: 9229,
  zipkin: 9411,
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
  /** The shop's metrics in Prometheus' text format (local/metrics/registry.ts). */
  metricsUrl: string;
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
