import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FUNCTIONS, type FunctionSpec } from "../../shared/contract/manifest.ts";
import { openApiDocument } from "../../shared/http/openapi.ts";

describe("the OpenAPI document", () => {
  const document = openApiDocument();
  // serverless.yml's httpApi events are made from the manifest (deploy/functions.ts).
  const routed = Object.values(FUNCTIONS as Record<string, FunctionSpec>)
    .flatMap((fn) => ("http" in fn.trigger ? fn.trigger.http : []))
    .map((route) => `${route.method.toLowerCase()} ${route.path}`)
    .filter((route) => route !== "get /api/openapi.json");
  const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.keys(methods).map((m) => `${m} ${path}`),
  );

  it("documents exactly the HTTP routes the manifest (serverless.yml's functions) declares", () => {
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
