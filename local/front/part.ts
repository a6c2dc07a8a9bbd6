import path from "node:path";
import { fileURLToPath } from "node:url";
import { listening } from "../core/process.ts";
import type { Part } from "../core/supervisor.ts";
import type { LimitRange } from "./adaptive-limit.ts";

const SERVER = fileURLToPath(new URL("./server.ts", import.meta.url));

export interface FrontPartOptions {
  host: string;
  port: number;
  /** serverless-offline's own HTTP port, behind the front. */
  targetPort: number;
  limit: LimitRange;
  logFile: string;
  /** Every line it prints (its metrics among them). */
  output: (line: string) => void;
}

/** The HTTP API's front door (server.ts) as a supervised process of its own. */
export function frontPart(options: FrontPartOptions): Part {
  return {
    name: "front",
    label: "HTTP front",
    marker: `FRONT_TARGET_PORT=${options.targetPort}`,
    startTimeoutMs: 20_000,
    stopGraceMs: 2_000,
    async launch(attempt) {
      const child = attempt.spawn(process.execPath, ["--import", "tsx", SERVER], {
        cwd: path.dirname(SERVER),
        env: {
          ...process.env,
          FRONT_HOST: options.host,
          FRONT_PORT: String(options.port),
          FRONT_TARGET_PORT: String(options.targetPort),
          FRONT_LIMIT: JSON.stringify(options.limit),
        },
        logFile: options.logFile,
        stopSignal: "SIGTERM",
        onLine: options.output,
      });
      await attempt.wait(() => listening("127.0.0.1", options.port), {
        what: `the HTTP front to listen on ${options.port}`,
        exited: child,
        intervalMs: 50,
      });
      return child;
    },
  };
}
