import { z } from "zod";
import * as api from "../contract/http.ts";
import { MAX_BODY_BYTES } from "./request.ts";

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the handlers validate with.
 * `routes` is also what the drift test walks, endpoint by endpoint.
 */
interface Route {
  method: "get" | "post";
  path: string;
  summary: string;
  tag: "orders" | "payments" | "ops";
  body?: z.ZodType;
  query?: z.ZodObject;
  pathParams?: z.ZodObject;
  idempotent?: boolean;
  /** Open to anyone: no access token needed (health, the document itself). */
  anonymous?: boolean;
  responses: Record<number, { description: string; schema?: z.ZodType; headers?: Record<string, string> }>;
}

const badRequest = { description: "A field is missing or malformed; `field` names it", schema: api.problem };
const tooLarge = { description: `The body is larger than ${MAX_BODY_BYTES} bytes`, schema: api.problem };
const unauthorized = {
  description:
    "No valid access token: missing, malformed, expired, signed by another key, or of another user pool or app client (never with AUTH=off)",
  schema: api.problem,
};
const forbidden = { description: "`user_id` names another user than the access token's", schema: api.problem };

export const routes: Route[] = [
  {
    method: "post",
    path: "/api/payments/create_account",
    tag: "payments",
    summary: "Open an account (one per user)",
    body: api.createAccountRequest,
    responses: {
      201: { description: "Account created with balance 0", schema: api.accountChanged },
      400: badRequest,
      401: unauthorized,
      403: forbidden,
      413: tooLarge,
      409: { description: "The user already has an account", schema: api.problem },
    },
  },
  {
    method: "post",
    path: "/api/payments/deposit",
    tag: "payments",
    summary: "Add money to an account",
    body: api.depositRequest,
    idempotent: true,
    responses: {
      200: { description: "The new balance", schema: api.accountChanged },
      400: badRequest,
      401: unauthorized,
      403: forbidden,
      413: tooLarge,
      404: { description: "No account for this user", schema: api.problem },
      422: { description: "Idempotency-Key reused with a different body", schema: api.problem },
    },
  },
  {
    method: "get",
    path: "/api/payments/balance",
    tag: "payments",
    summary: "Read an account's balance",
    query: api.userQuery,
    responses: {
      200: { description: "The balance", schema: api.account },
      400: badRequest,
      401: unauthorized,
      403: forbidden,
      404: { description: "No account for this user", schema: api.problem },
    },
  },
  {
    method: "post",
    path: "/api/orders",
    tag: "orders",
    summary: "Place an order; it is paid asynchronously",
    body: api.createOrderRequest,
    idempotent: true,
    responses: {
      201: { description: "Order created with status NEW", schema: api.orderCreatedResponse },
      400: badRequest,
      401: unauthorized,
      403: forbidden,
      413: tooLarge,
      422: { description: "Idempotency-Key reused with a different body", schema: api.problem },
    },
  },
  {
    method: "get",
    path: "/api/orders",
    tag: "orders",
    summary: `List your orders, newest first, ${api.ORDERS_PAGE} a page (limit up to ${api.MAX_ORDERS_PAGE}); the Next-Cursor header, when present, is the next page's cursor`,
    query: api.listOrdersQuery,
    responses: {
      200: {
        description: "A page of orders",
        schema: api.orderList,
        headers: { "Next-Cursor": "The `cursor` of the next page; absent on the last page" },
      },
      400: badRequest,
      401: unauthorized,
      403: forbidden,
    },
  },
  {
    method: "get",
    path: "/api/orders/{id}",
    tag: "orders",
    summary: "Read one order and its status",
    pathParams: api.orderPath,
    responses: {
      200: { description: "The order", schema: api.order },
      400: badRequest,
      401: unauthorized,
      404: { description: "No such order among yours (another user's order is not yours to see)", schema: api.problem },
    },
  },
  {
    method: "get",
    path: "/api/health",
    tag: "ops",
    summary: "Kafka and both databases, each really asked: up or down, nothing more",
    anonymous: true,
    responses: {
      200: { description: "Everything answers", schema: api.health },
      503: { description: "Something does not answer", schema: api.health },
    },
  },
];

/** Where the document itself is served (GET, anonymous): not an operation of its own. */
export const DOCUMENT_PATH = "/api/openapi.json";

const anonymousRoutes = new Set([
  ...routes.filter((route) => route.anonymous).map((route) => `${route.method.toUpperCase()} ${route.path}`),
  `GET ${DOCUMENT_PATH}`,
]);

/** Whether a route (an HTTP API route key, "GET /api/health") is open to anyone, as the document says. */
export const isAnonymous = (routeKey: string | undefined): boolean =>
  routeKey !== undefined && anonymousRoutes.has(routeKey);

function schemaOf(schema: z.ZodType, io: "input" | "output") {
  return z.toJSONSchema(schema, { io, target: "openapi-3.0", unrepresentable: "any", reused: "inline" });
}

function parametersOf(where: "query" | "path", shape: z.ZodObject | undefined) {
  if (!shape) return [];
  return Object.entries(shape.shape).map(([name, schema]) => ({
    name,
    in: where,
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: schemaOf(schema as z.ZodType, "input"),
  }));
}

export function openApiDocument(serverUrl = "/") {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...parametersOf("path", route.pathParams),
      ...parametersOf("query", route.query),
      ...(route.idempotent
        ? [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description:
                "Repeat a request safely: the same key and body replay the first answer (header Idempotent-Replayed: true).",
              schema: schemaOf(api.idempotencyKey, "input"),
            },
          ]
        : []),
    ];
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      tags: [route.tag],
      summary: route.summary,
      operationId: `${route.method}${route.path.replace(/[^a-zA-Z]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      ...(route.anonymous ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: { required: true, content: { "application/json": { schema: schemaOf(route.body, "input") } } },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.headers
              ? {
                  headers: Object.fromEntries(
                    Object.entries(response.headers).map(([name, description]) => [
                      name,
                      { description, schema: { type: "string" } },
                    ]),
                  ),
                }
              : {}),
            ...(response.schema
              ? {
                  content: {
                    [response.schema === api.problem ? "application/problem+json" : "application/json"]: {
                      schema: schemaOf(response.schema, "output"),
                    },
                  },
                }
              : {}),
          },
        ]),
      ),
    };
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "Gozon Async Shop API",
      version: "1.0.0",
      description:
        "Orders are paid asynchronously: POST /api/orders answers 201 with status NEW; the order becomes FINISHED or CANCELLED once payments has charged it. Every endpoint but health and this document needs a Cognito access token (Authorization: Bearer …) and acts on the token's own user. Every error is application/problem+json. While a database is unreachable, or while the shop takes in more than its databases can do, endpoints answer 503 with Retry-After; try again then.",
    },
    servers: [{ url: serverUrl }],
    // Swagger UI's Authorize button takes an access token (the page shows how to copy yours).
    components: {
      securitySchemes: {
        cognitoAccessToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A Cognito access token of this shop's user pool: sign in on the shop's page, or call InitiateAuth (USER_PASSWORD_AUTH).",
        },
      },
    },
    security: [{ cognitoAccessToken: [] }],
    paths,
  };
}
