import http from "node:http";
import { countMetric } from "../../shared/metrics/emit.ts";
import { AdaptiveLimit, type LimitRange } from "./adaptive-limit.ts";

/**
 * The HTTP API's front door, as API Gateway is on AWS: a process that does nothing but take
 * connections and admit requests to serverless-offline, which runs every function on one event
 * loop. There, a flood of new connections waits in the kernel's accept queue for that loop's
 * turns, and even a refusal comes only after seconds. Here, at most a limit of requests are
 * passed on at once, over kept-alive connections, and the next ones are answered at once with
 * 429 and Retry-After, as a throttled API Gateway route answers. The limit follows the latency
 * of the answers (adaptive-limit.ts); on a fresh start a burst up to its initial value is taken
 * whole. While serverless-offline does not answer (restarting), requests get 503 and Retry-After.
 */
export interface FrontOptions {
  host: string;
  port: number;
  /** serverless-offline's HTTP server. */
  target: { host: string; port: number };
  /** Requests passed on at once. */
  limit: LimitRange;
  /** API Gateway's own limit on an integration. */
  timeoutMs?: number;
}

/** Said of one connection, not passed on (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);
const passedOn = (headers: http.IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

function problem(response: http.ServerResponse, status: number, title: string, detail: string): void {
  const body = JSON.stringify({ type: "about:blank", title, status, detail });
  response.writeHead(status, {
    "content-type": "application/problem+json",
    "retry-after": "1",
    "content-length": Buffer.byteLength(body),
  });
  response.end(body);
}

export function startFront(options: FrontOptions): Promise<http.Server> {
  const limit = new AdaptiveLimit(options.limit);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.limit.max });
  let inFlight = 0;
  const server = http.createServer((request, response) => {
    if (inFlight >= limit.current) {
      request.resume();
      countMetric("RequestsThrottled", { FunctionName: "httpFront" });
      return problem(
        response,
        429,
        "Too Many Requests",
        `More than ${limit.current} requests at once; try again in a second.`,
      );
    }
    inFlight += 1;
    const passedOnAt = performance.now();
    const passedOnWith = inFlight;
    let done = false;
    const finish = () => {
      if (!done) {
        done = true;
        inFlight -= 1;
      }
    };
    response.once("close", finish);
    const upstream = http.request(
      {
        host: options.target.host,
        port: options.target.port,
        method: request.method,
        path: request.url,
        headers: passedOn(request.headers),
        agent,
        timeout: options.timeoutMs ?? 30_000,
      },
      (answer) => {
        limit.answered(performance.now() - passedOnAt, passedOnWith);
        response.writeHead(answer.statusCode ?? 502, passedOn(answer.headers));
        answer.pipe(response);
        answer.once("error", () => response.destroy());
      },
    );
    upstream.once("timeout", () => {
      limit.answered(performance.now() - passedOnAt, passedOnWith);
      upstream.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" }));
    });
    upstream.once("error", (error: NodeJS.ErrnoException) => {
      if (response.headersSent) return void response.destroy();
      if (error.code === "ETIMEDOUT")
        return problem(response, 504, "Gateway Timeout", "The API did not answer in time.");
      problem(response, 503, "Service Unavailable", "The API is not answering right now; try again in a second.");
    });
    request.pipe(upstream);
  });
  // A client that goes silent mid-request must not hold a place for ever.
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve(server));
  });
}

// Run as its own process by the start command (local/front/part.ts).
if (import.meta.url === `file://${process.argv[1]}`) {
  const env = process.env;
  await startFront({
    host: env.FRONT_HOST ?? "127.0.0.1",
    port: Number(env.FRONT_PORT),
    target: { host: "127.0.0.1", port: Number(env.FRONT_TARGET_PORT) },
    limit: JSON.parse(env.FRONT_LIMIT ?? "") as LimitRange,
  });
  process.stdout.write(`front listening on ${env.FRONT_PORT}\n`);
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
}
