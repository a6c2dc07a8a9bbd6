import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { openApiDocument } from "../../shared/http/openapi.ts";

interface FunctionSpec {
  events?: Array<{ httpApi?: { method: string; path: string } }>;
}

describe("the OpenAPI document", () => {
  const document = openApiDocument();
  const serverless = parseYaml(readFileSync(new URL("../../serverless.yml", import.meta.url), "utf8")) as {
    functions: Record<string, FunctionSpec>;
  };
  const routed = Object.values(serverless.functions)
    .flatMap((fn) => fn.events ?? [])
    .flatMap((e) => (e.httpApi ? [`${e.httpApi.method.toLowerCase()} ${e.httpApi.path}`] : []))
    .filter((route) => route !== "get /api/openapi.json");
  const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m} ${path}`),
  );

  it("documents exactly the HTTP routes serverless.yml declares", () => {
    assert.deepEqual([...documented].sort(), [...routed].sort());
  });

  it("gives every operation a 2xx response and documents a problem body for every error", () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(
        methods as Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>,
      )) {
        const statuses = Object.keys(operation.responses);
        assert.ok(
          statuses.some((s) => s.startsWith("2")),
          `${method} ${path} has a success response`,
        );
        for (const status of statuses.filter((s) => s.startsWith("4"))) {
          assert.ok(
            operation.responses[status]!.content?.["application/problem+json"],
            `${method} ${path} ${status} is a problem`,
          );
        }
      }
    }
  });
});
