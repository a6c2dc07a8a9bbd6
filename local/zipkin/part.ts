import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { listening } from "../core/process.ts";
import type { Part } from "../core/supervisor.ts";
import { tracesExporterOf } from "../../shared/config.ts";
import { ensureZipkin, zipkinArgs, zipkinEnv } from "./install.ts";

export interface ZipkinPartOptions {
  /** Holds its log (zipkin.log); the spans themselves live only in its memory. */
  dir: string;
  port: number;
  log?: (line: string) => void;
  /** Stops a download or preparation under way when the stack stops. */
  signal?: AbortSignal;
}

export const zipkinLogFile = (dir: string) => path.join(dir, "zipkin.log");

/** Where the UI of the Zipkin on `port` is. */
export const zipkinUiUrl = (port: number) => `http://127.0.0.1:${port}/zipkin/`;

/**
 * Zipkin (collector, query API and UI in one JVM) with in-memory storage: ready once GET /health
 * answers 200. A replacement starts empty, as Zipkin's own in-memory storage always does. Run
 * under `nice`: on two cores, the shop's requests come before the spans about them.
 */
export function zipkinPart(options: ZipkinPartOptions): Part {
  const logFile = zipkinLogFile(options.dir);
  const url = `http://127.0.0.1:${options.port}`;
  const marker = `GOZON_ZIPKIN=${options.dir}`;
  return {
    name: "zipkin",
    label: "Zipkin",
    marker,
    startTimeoutMs: 60_000,
    // Its spans are only in memory, so a clean shutdown saves nothing, and it takes 2.4 s.
    stopGraceMs: 0,
    async launch(attempt) {
      const install = await ensureZipkin(options.log, options.signal ? { signal: options.signal } : {});
      // Zipkin would only say so deep in its log (a docker compose Zipkin on 9411 is the usual one).
      if (await listening("127.0.0.1", options.port))
        throw new Error(
          `something else listens on 127.0.0.1:${options.port} already (another Zipkin? ZIPKIN_PORT moves this one)`,
        );
      if (attempt.fresh) await rm(logFile, { force: true });
      await mkdir(options.dir, { recursive: true });
      const child = attempt.spawn("nice", ["-n", "10", "java", ...zipkinArgs(install, options.port)], {
        env: { ...zipkinEnv(process.env, options.port), GOZON_ZIPKIN: options.dir },
        logFile,
        stopSignal: "SIGTERM",
      });
      await attempt.wait(
        async () => {
          const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
          await response.body?.cancel();
          return response.status === 200;
        },
        { what: `GET ${url}/health to answer 200`, exited: child, intervalMs: 100 },
      );
      return child;
    },
  };
}

/** Where a stack's functions send their spans, and whether the stack runs Zipkin for them. */
export interface TracesPlan {
  /** True when this stack starts Zipkin. */
  zipkin: boolean;
  /** The Zipkin the stack's OTLP bridge (otlp-bridge.ts) hands the spans to: its own, or ZIPKIN_URL; undefined without a bridge. */
  bridgeTo: string | undefined;
  /** Zipkin's UI, or TRACES_URL when the environment sends the spans elsewhere; undefined with TRACES=off. */
  tracesUrl: string | undefined;
  /** Set in serverless-offline's environment, over the stack's own (and the bridge's exporterEnv over these). */
  offlineEnv: Record<string, string>;
  /** Why this stack runs no Zipkin (when it runs none). */
  without: string | undefined;
}

/**
 * Traces are on unless TRACES=off. The functions export OTLP only; Zipkin takes none, so the stack
 * runs a bridge (otlp-bridge.ts) into its own Zipkin, or into the one ZIPKIN_URL names (Docker
 * Compose's), which it then does not start. An OTEL_TRACES_EXPORTER in the environment is a choice
 * made already (a collector of one's own): its OTEL_* variables reach the functions untouched, and
 * neither Zipkin nor bridge starts; `zipkin` is refused here, before anything starts.
 */
export function tracesPlan(env: NodeJS.ProcessEnv, zipkinPort: number): TracesPlan {
  if (env.TRACES === "off") {
    return {
      zipkin: false,
      bridgeTo: undefined,
      tracesUrl: undefined,
      offlineEnv: { OTEL_TRACES_EXPORTER: "none" },
      without: "TRACES=off leaves Zipkin out of this stack",
    };
  }
  if (env.OTEL_TRACES_EXPORTER) {
    tracesExporterOf(env);
    return {
      zipkin: false,
      bridgeTo: undefined,
      tracesUrl: env.TRACES_URL || undefined,
      offlineEnv: {},
      without: `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER} in the environment sends the spans elsewhere, so this stack starts no Zipkin`,
    };
  }
  if (env.ZIPKIN_URL) {
    return {
      zipkin: false,
      bridgeTo: env.ZIPKIN_URL,
      tracesUrl: env.TRACES_URL || new URL("/zipkin/", env.ZIPKIN_URL).href,
      offlineEnv: {},
      without: `ZIPKIN_URL=${env.ZIPKIN_URL} takes the spans, so this stack starts no Zipkin`,
    };
  }
  return {
    zipkin: true,
    bridgeTo: `http://127.0.0.1:${zipkinPort}`,
    tracesUrl: zipkinUiUrl(zipkinPort),
    offlineEnv: {},
    without: undefined,
  };
}
