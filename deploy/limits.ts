import type { Database } from "../shared/contract/manifest.ts";
import type { StageLimits } from "./stage-params.ts";
import { stageParams } from "./stage-settings.ts";

/**
 * What a burst may take on AWS, from the stage's settings (stages/<stage>.yml):
 * - the HTTP API's default route throttling (`httpRateLimit`, `httpBurstLimit`): past it API
 *   Gateway answers 429 before any function runs;
 * - a reserved concurrency for every function that uses a database, so that all of them at once,
 *   each container with its pool of `dbPoolMax`, never hold more than `databaseConnections` to
 *   that database (RDS Proxy's limit for them). A function that declares `reservedConcurrency` in
 *   serverless.yml (the relays) keeps it and is counted first; the others share the rest evenly.
 * Which database a function uses is what serverless.yml gives it: ORDERS_DATABASE_URL or
 * PAYMENTS_DATABASE_URL in its `environment`. The local stage gets none of this: there the front
 * sheds by itself (the HTTP front, local/front/, whose limit follows the latency it sees).
 */

export interface LimitedFunction {
  reservedConcurrency?: number;
  environment?: Record<string, unknown>;
}

const URL_OF: Record<Database, string> = { orders: "ORDERS_DATABASE_URL", payments: "PAYMENTS_DATABASE_URL" };

export const DATABASES = Object.keys(URL_OF) as Database[];

/** The databases a function uses: those whose URL serverless.yml puts in its environment. */
export const databasesOf = (fn: { environment?: Record<string, unknown> }): Database[] =>
  DATABASES.filter((database) => fn.environment !== undefined && URL_OF[database] in fn.environment);

export const functionLogicalId = (functionKey: string): string =>
  `${functionKey[0]!.toUpperCase()}${functionKey.slice(1)}LambdaFunction`;

/** Each function's reserved concurrency: the least its databases' shares allow. */
export function reservedConcurrency(
  functions: Record<string, LimitedFunction>,
  limits: Pick<StageLimits, "databaseConnections" | "dbPoolMax">,
): Record<string, number> {
  const containers = Math.floor(limits.databaseConnections / limits.dbPoolMax);
  const share = new Map<string, number>();
  for (const database of DATABASES) {
    const users = Object.entries(functions).filter(([, fn]) => databasesOf(fn).includes(database));
    const declared = users.reduce((n, [, fn]) => n + (fn.reservedConcurrency ?? 0), 0);
    const open = users.filter(([, fn]) => fn.reservedConcurrency === undefined);
    const each = open.length ? Math.floor((containers - declared) / open.length) : 0;
    if (open.length && each < 1) {
      throw new Error(
        `databaseConnections ${limits.databaseConnections} leaves no container for ${open.map(([key]) => key).join(", ")} on the ${database} database (pool ${limits.dbPoolMax} each)`,
      );
    }
    for (const [key] of open) share.set(key, Math.min(share.get(key) ?? Infinity, each));
  }
  return Object.fromEntries(share);
}

/** `resources` for serverless.yml: extensions of the HTTP API's stage and of the functions. */
export function stageLimits(
  functions: Record<string, LimitedFunction>,
  limits: StageLimits | null,
): { extensions?: Record<string, unknown> } {
  if (!limits) return {};
  const extensions: Record<string, unknown> = {
    HttpApiStage: {
      Properties: {
        DefaultRouteSettings: {
          ThrottlingRateLimit: limits.httpRateLimit,
          ThrottlingBurstLimit: limits.httpBurstLimit,
        },
      },
    },
  };
  for (const [key, concurrency] of Object.entries(reservedConcurrency(functions, limits))) {
    extensions[functionLogicalId(key)] = { Properties: { ReservedConcurrentExecutions: concurrency } };
  }
  return { extensions };
}

interface VariableSourceContext {
  resolveVariable(variable: string): Promise<unknown>;
  resolveConfigurationProperty(path: string[]): Promise<unknown>;
}

/** The `${file(./deploy/limits.cjs)}` entry point, under serverless.yml's `resources`. */
export default async function resolve({ resolveVariable, resolveConfigurationProperty }: VariableSourceContext) {
  const [stage, region, functions] = await Promise.all([
    resolveVariable("sls:stage"),
    resolveVariable("self:provider.region"),
    resolveConfigurationProperty(["functions"]),
  ]);
  const { limits } = stageParams({ serviceDir: process.cwd(), stage: String(stage), region: String(region) });
  return stageLimits((functions ?? {}) as Record<string, LimitedFunction>, limits);
}
