import {
  createServer,
  request,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { DependencyUnavailable, InvalidInput, NotFound } from "../../shared/errors.ts";
import { responseForError } from "../../shared/http/problem.ts";
import path from "node:path";
import { createRequire } from "node:module";
import sirv from "sirv";
import type { MetricsRegistry } from "../metrics/registry.ts";
import { asyncApiDocument } from "../../shared/contract/asyncapi.ts";
import { ROOT } from "../core/paths.ts";

export interface FrontendOptions {
  port: number;
  /** The interface to listen on; 0.0.0.0 inside a container. */
  host: string;
  apiUrl: string;
  wsUrl: string;
  /** Named as the local Kafka server of the AsyncAPI document; 127.0.0.1:9092 when not given. */
  kafkaBrokers?: string[];
  /** The user pool the page signs in with; undefined with AUTH=off. */
  signIn?: {
    clientId: string;
    region: string;
    /** The Cognito API. A local one (cognito-local) is reached through this server, under /cognito/. */
    endpoint: string;
    local: boolean;
  };
  /** The trace viewer's UI (Zipkin's /zipkin/), which the page links each order's trace to; undefined without traces. */
  tracesUrl?: string | undefined;
  /** Served at /metrics, as a Prometheus server would scrape it. */
  metrics?: MetricsRegistry;
}

/** Where the page sends its Cognito calls when the identity provider is cognito-local. */
const COGNITO_PATH = "/cognito/";

const swaggerDir = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/**
 * Serves frontend/ and, under /docs/, Swagger UI from swagger-ui-dist (no CDN, works offline).
 * /config.js tells the page where the API, the WebSocket and the trace viewer are, so nothing is hard-coded.
 * /asyncapi.json is the AsyncAPI document of the Kafka topics and the WebSocket frames.
 * /cognito/ passes the page's Cognito calls to cognito-local, so that only the page, the API and
 * the WebSocket need to be reachable from a browser (a real pool is called directly).
 * /traces/<order id> opens the order's trace in Zipkin (see traceOfOrder).
 */
export async function startFrontend(
  options: FrontendOptions,
): Promise<{ url: string; docsUrl: string; stop(): Promise<void> }> {
  const page = sirv(path.join(ROOT, "frontend"), { dev: true, etag: true });
  const swagger = sirv(swaggerDir, { dev: true });
  const signIn = options.signIn && {
    clientId: options.signIn.clientId,
    region: options.signIn.region,
    endpoint: options.signIn.local ? COGNITO_PATH : options.signIn.endpoint,
  };
  const config = `window.GOZON_CONFIG = ${JSON.stringify({ apiUrl: options.apiUrl, wsUrl: options.wsUrl, docsUrl: "/docs/", signIn: signIn ?? null, tracesUrl: options.tracesUrl ?? null })};\n`;
  // swagger-ui-dist's index.html loads swagger-initializer.js, which points at the Petstore demo: ours points at the API.
  const initializer = `window.onload = () => {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(`${options.apiUrl}/api/openapi.json`)},
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // Authorize (the padlock) takes an access token: the page's "Copy access token" gives yours.
    persistAuthorization: true,
  });
};
`;

  const asyncApi = JSON.stringify(
    asyncApiDocument({
      wsUrl: options.wsUrl,
      ...(options.kafkaBrokers ? { kafkaBrokers: options.kafkaBrokers.join(",") } : {}),
    }),
    null,
    2,
  );

  const server: Server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === COGNITO_PATH && req.method === "POST" && options.signIn?.local) {
      passTo(options.signIn.endpoint, req, res);
    } else if (url.split("?")[0] === "/asyncapi.json") {
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        "access-control-allow-origin": "*",
      });
      res.end(asyncApi);
    } else if (url.split("?")[0] === "/metrics" && options.metrics) {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
      res.end(options.metrics.prometheusText());
    } else if (url === "/config.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      res.end(config);
    } else if (url.startsWith(TRACES_PATH) && req.method === "GET") {
      void traceOfOrder(options.tracesUrl, url.slice(TRACES_PATH.length).split("?")[0]!, res);
    } else if (url === "/docs") {
      res.writeHead(301, { location: "/docs/" });
      res.end();
    } else if (url.split("?")[0] === "/docs/swagger-initializer.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      res.end(initializer);
    } else if (url.startsWith("/docs/")) {
      req.url = url.slice("/docs".length);
      swagger(req, res, () => notFound(res));
    } else {
      page(req, res, () => notFound(res));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const url = `http://127.0.0.1:${options.port}`;
  return {
    url,
    docsUrl: `${url}/docs/`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const TRACES_PATH = "/traces/";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Sends the browser to an order's trace. Zipkin's UI cannot open a search from a link, so its API is
 * asked for the trace whose spans carry the order's id, and the answer is a redirect to that trace;
 * while none is there yet (its spans not sent, or dropped while Zipkin was starting), to Zipkin's
 * search with the order's id filled in.
 */
async function traceOfOrder(tracesUrl: string | undefined, orderId: string, res: ServerResponse): Promise<void> {
  // Answered as the API answers: problem details for what is refused.
  const send = (answer: APIGatewayProxyStructuredResultV2) => {
    res.writeHead(answer.statusCode ?? 500, { ...answer.headers, "cache-control": "no-store" } as OutgoingHttpHeaders);
    res.end(answer.body ?? "");
  };
  const path = `${TRACES_PATH}${orderId}`;
  if (!tracesUrl)
    return send(responseForError(new NotFound("Traces are off (TRACES=off): there is no trace viewer", "id"), path));
  // Taken as it came, not URI-decoded: an order id is hex and dashes, anything encoded is not one.
  if (!UUID.test(orderId)) {
    return send(
      responseForError(new InvalidInput("Not an order id: /traces/<order id> takes the order's UUID", "id"), path),
    );
  }
  const query = `annotationQuery=${encodeURIComponent(`order.id=${orderId}`)}`;
  let traceId: string | undefined;
  try {
    const response = await fetch(new URL(`/api/v2/traces?${query}&lookback=${7 * 86_400_000}&limit=1`, tracesUrl), {
      signal: AbortSignal.timeout(3_000),
    });
    if (!response.ok) throw new Error(`Zipkin answered ${response.status}`);
    const [trace] = (await response.json()) as Array<Array<{ traceId: string }>>;
    traceId = trace?.[0]?.traceId;
  } catch (error) {
    return send(
      responseForError(new DependencyUnavailable(`the trace viewer (Zipkin, ${tracesUrl})`, { cause: error }), path),
    );
  }
  send({
    statusCode: 302,
    headers: { location: traceId ? new URL(`traces/${traceId}`, tracesUrl).href : `${tracesUrl}?${query}` },
  });
}

/** Relays one Cognito API call (a JSON POST to "/") to cognito-local and its answer back. */
function passTo(endpoint: string, req: IncomingMessage, res: ServerResponse): void {
  const headers = {
    "content-type": req.headers["content-type"] ?? "application/x-amz-json-1.1",
    "x-amz-target": req.headers["x-amz-target"] ?? "",
  };
  const upstream = request(new URL("/", endpoint), { method: "POST", headers, timeout: 10_000 }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, {
      "content-type": answer.headers["content-type"] ?? "application/json",
      "cache-control": "no-store",
    });
    answer.pipe(res);
  });
  upstream.on("timeout", () => upstream.destroy(new Error("timed out")));
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ __type: "ServiceUnavailable", message: "The sign-in service (cognito-local) does not answer" }),
    );
  });
  req.pipe(upstream);
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("Not found");
}
