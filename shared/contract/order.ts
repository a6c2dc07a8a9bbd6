import { z } from "zod";

/**
 * The words both services and every client share: an order's statuses, why a payment fails, and
 * the order as everyone outside the orders database sees it.
 */
export const ORDER_STATUSES = ["NEW", "FINISHED", "CANCELLED"] as const;

export const PAYMENT_FAILURE_REASONS = ["insufficient_funds", "account_not_found", "invalid_amount"] as const;
export type PaymentFailureReason = (typeof PAYMENT_FAILURE_REASONS)[number];

export const MAX_AMOUNT = 1_000_000_000;
export const MAX_DESCRIPTION_LENGTH = 500;

export const order = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    amount: z.number().int(),
    description: z.string(),
    status: z.enum(ORDER_STATUSES),
    reason: z.enum(PAYMENT_FAILURE_REASONS).nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: "Order" });
export type Order = z.infer<typeof order>;

/**
 * Text a person typed, as PostgreSQL and every client can store and show it: well-formed Unicode
 * (no lone surrogates) without control characters, NUL above all (PostgreSQL refuses it in text).
 */
export const printableText = (max: number) =>
  z
    .string({ error: "must be a string" })
    .max(max, `must be at most ${max} characters`)
    .refine((s) => s.isWellFormed(), "must be well-formed Unicode text")
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters");
