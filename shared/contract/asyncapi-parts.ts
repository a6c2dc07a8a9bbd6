import { z } from "zod";

/** Pieces every part of the AsyncAPI document (asyncapi.ts) is built from. */

export const BINDING_VERSION = { kafka: "0.5.0", ws: "0.1.0" } as const;

/**
 * A zod schema as JSON Schema (draft 7, which AsyncAPI's schema format extends). Schemas that name
 * themselves (`.meta({ id })`, e.g. Order) become components of their own, referenced from each use.
 */
export function schemaOf(
  schema: z.ZodType,
  shared: Record<string, unknown>,
  io: "input" | "output" = "output",
): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, {
    target: "draft-7",
    io,
    unrepresentable: "any",
    reused: "inline",
  }) as Record<string, unknown>;
  const {
    $schema: _schema,
    definitions,
    ...json
  } = JSON.parse(JSON.stringify(generated).replaceAll('"#/definitions/', '"#/components/schemas/')) as Record<
    string,
    unknown
  >;
  Object.assign(shared, definitions ?? {});
  return json;
}

export const pascal = (topic: string) =>
  topic
    .split(/[^a-zA-Z0-9]+/)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
export const ref = (pointer: string) => ({ $ref: pointer });
