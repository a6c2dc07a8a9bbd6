import { z } from "zod";
import { MAX_AMOUNT, MAX_DESCRIPTION_LENGTH, order, printableText } from "./order.ts";

/**
 * The HTTP API's shapes, written once: handlers validate with them and the OpenAPI document is
 * generated from them, so the docs cannot drift from what the code accepts.
 */
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export const userId = z
  .string({ error: "is required" })
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a UUID")
  .refine((v) => v !== NIL_UUID, "must not be the nil UUID")
  .transform((v) => v.toLowerCase())
  .meta({ format: "uuid", example: "550e8400-e29b-41d4-a716-446655440000" });

const amount = z
  .number({ error: "must be a JSON number" })
  .int("must be a whole number")
  .positive("must be positive")
  .max(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`);

export const createAccountRequest = z.object({ user_id: userId }).meta({ id: "CreateAccountRequest" });
export const depositRequest = z.object({ user_id: userId, amount }).meta({ id: "DepositRequest" });
export const createOrderRequest = z
  .object({
    user_id: userId,
    amount,
    description: printableText(MAX_DESCRIPTION_LENGTH).default(""),
  })
  .meta({ id: "CreateOrderRequest" });
export const userQuery = z.object({ user_id: userId });
export const orderPath = z.object({ id: userId.meta({ example: "0b7e6a52-3c1e-4e55-9d3e-8f1b2a7c9d10" }) });

export const idempotencyKey = z
  .string()
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters")
  .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");

export const account = z.object({ user_id: z.uuid(), balance: z.number().int() }).meta({ id: "Account" });
/** The answer to opening an account and to a deposit: the account as it is now, and what happened. */
export const accountChanged = account.extend({ message: z.string() }).meta({ id: "AccountChanged" });

export { order };
export const orderCreatedResponse = z
  .object({ message: z.string(), order_id: z.uuid(), status: z.literal("NEW"), order })
  .meta({ id: "OrderCreated" });
export const orderList = z.array(order).meta({ id: "OrderList" });

const check = z.object({ ok: z.boolean(), detail: z.string().optional() });
const outboxLag = z
  .object({
    pending: z.number().int(),
    oldest_seconds: z.number().nullable(),
    parked: z.number().int().meta({ description: "Rows the broker refused, set aside with their error" }),
  })
  .nullable();
export const health = z
  .object({
    status: z.enum(["ok", "degraded"]),
    checks: z.object({ kafka: check, orders_db: check, payments_db: check }),
    outbox: z.object({ orders: outboxLag, payments: outboxLag }).meta({ description: "Rows waiting for the relay, per database" }),
  })
  .meta({ id: "Health" });

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    field: z.string().optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details, served as application/problem+json" });
