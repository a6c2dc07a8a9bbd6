import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { z } from "zod";
import { InvalidInput, PayloadTooLarge } from "../errors.ts";
import { idempotencyKey as idempotencyKeySchema } from "../contract/http.ts";

/** Validates `input` against `schema`; the first problem becomes a 400 naming its field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join(".");
  const detail = issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
  throw new InvalidInput(field ? `${field} ${detail}` : detail, field || "body");
}

/** Every request body of this API is a small JSON object; anything larger is refused unread. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The request body as JSON, or a 4xx that says why not. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  const raw = event.isBase64Encoded && event.body ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
  if (!raw) throw new InvalidInput("The request body must be a JSON object", "body");
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES)
    throw new PayloadTooLarge(`The request body must be at most ${MAX_BODY_BYTES} bytes`, "body");
  try {
    return JSON.parse(raw);
  } catch {
    throw new InvalidInput("The request body is not valid JSON", "body");
  }
}

export function queryOf(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  return event.queryStringParameters ?? {};
}

/** The optional Idempotency-Key header (API Gateway v2 lower-cases header names). */
export function idempotencyKeyOf(event: APIGatewayProxyEventV2): string | undefined {
  const headers = event.headers ?? {};
  const value = headers["idempotency-key"] ?? headers["Idempotency-Key"];
  if (value === undefined) return undefined;
  const result = idempotencyKeySchema.safeParse(value);
  if (!result.success) throw new InvalidInput(`Idempotency-Key ${result.error.issues[0]!.message}`, "Idempotency-Key");
  return result.data;
}
