import { z } from "zod";
import { MAX_AMOUNT, MAX_DESCRIPTION_LENGTH, order, printableText } from "./order.ts";

/**
 * The HTTP API's shapes, written once: handlers validate with them and the OpenAPI document is
 * generated from them, so the docs cannot drift from what the code accepts.
 */
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

const uuidText = z
  .string({ error: "is required" })
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, "must be a UUID")
  .refine((v) => v !== NIL_UUID, "must not be the nil UUID")
  .transform((v) => v.toLowerCase());

export const userId = uuidText.meta({ format: "uuid", example: "550e8400-e29b-41d4-a716-446655440000" });

/**
 * The user a request acts for. With sign-in on, the access token names the user and this may be
 * left out (if given, it must be the token's own user); with AUTH=off it is required. No example
 * in the document: Swagger UI would send it, and another user's id is a 403.
 */
const actingUserId = uuidText.meta({ format: "uuid" }).optional().meta({
  description:
    "Your own user id. Optional when signed in (it must then be the access token's `sub`); required when the shop runs with AUTH=off.",
});

const amount = z
  .number({ error: "must be a JSON number" })
  .int("must be a whole number")
  .positive("must be positive")
  .max(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`);

export const createAccountRequest = z.object({ user_id: actingUserId }).meta({ id: "CreateAccountRequest" });
export const depositRequest = z.object({ user_id: actingUserId, amount }).meta({ id: "DepositRequest" });
export const createOrderRequest = z
  .object({
    user_id: actingUserId,
    amount,
    description: printableText(MAX_DESCRIPTION_LENGTH).default(""),
  })
  .meta({ id: "CreateOrderRequest" });
export const userQuery = z.object({ user_id: actingUserId });

/** GET /api/orders returns at most this many orders a page unless `limit` asks for fewer, up to MAX_ORDERS_PAGE. */
export const ORDERS_PAGE = 50;
export const MAX_ORDERS_PAGE = 100;

/** Where a page of a user's orders (newest first) ends: the last order's exact creation time and id. */
export interface OrderPosition {
  createdAt: string;
  id: string;
}
const POSITION =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The opaque `cursor` a page hands out for the next one. */
export const encodeOrderCursor = (position: OrderPosition): string =>
  Buffer.from(`${position.createdAt}|${position.id}`).toString("base64url");

const orderCursor = z
  .string()
  .max(200, "must be at most 200 characters")
  .transform((raw, ctx): OrderPosition => {
    const match = /^[A-Za-z0-9_-]+$/.test(raw) ? POSITION.exec(Buffer.from(raw, "base64url").toString("utf8")) : null;
    if (!match) {
      ctx.addIssue({
        code: "custom",
        message: "is not a cursor this API handed out (take it from the Next-Cursor header)",
      });
      return z.NEVER;
    }
    return { createdAt: match[1]!, id: match[2]! };
  })
  .meta({ description: "Where the previous page ended: its Next-Cursor header" });

const pageLimit = z
  .string()
  .regex(/^[0-9]{1,3}$/, `must be a whole number from 1 to ${MAX_ORDERS_PAGE}`)
  .transform(Number)
  .pipe(
    z
      .number()
      .min(1, `must be a whole number from 1 to ${MAX_ORDERS_PAGE}`)
      .max(MAX_ORDERS_PAGE, `must be a whole number from 1 to ${MAX_ORDERS_PAGE}`),
  )
  .meta({ description: `Orders per page, ${ORDERS_PAGE} unless given, at most ${MAX_ORDERS_PAGE}` });

export const listOrdersQuery = z.object({
  user_id: actingUserId,
  limit: pageLimit.optional(),
  cursor: orderCursor.optional(),
});
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

/** Up or down, nothing more: an anonymous caller learns no hosts, ports or error texts. */
const componentState = z.enum(["up", "down"]);
export const health = z
  .object({
    status: z.enum(["ok", "degraded"]),
    checks: z.object({ kafka: componentState, orders_db: componentState, payments_db: componentState }),
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
