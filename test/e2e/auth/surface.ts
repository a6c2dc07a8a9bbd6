/** What anyone sees: health, the CORS preflight, and the document's sign-in answers. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { documentedAnswers, SIGN_IN_STATUSES } from "../../support/contract.ts";
import { TEST_PORTS } from "../../support/stack.ts";
import type { AuthStack } from "./context.ts";

export function surfaceTests(auth: AuthStack): void {
  it("tells an anonymous caller of health only up or down per component", async () => {
    const { stack } = auth;
    const response = await fetch(`${stack.apiUrl}/api/health`);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { status: "ok", checks: { kafka: "up", orders_db: "up", payments_db: "up" } });
    assert.doesNotMatch(text, /127\.0\.0\.1|localhost|:\d{2,5}\b|error/i);
  });

  it("lets only the page's origin call the API from a browser (CORS preflight)", async () => {
    const { stack } = auth;
    const preflight = (origin: string) =>
      fetch(`${stack.apiUrl}/api/orders`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type",
        },
      });
    const page = await preflight(`http://127.0.0.1:${TEST_PORTS.frontend}`);
    assert.equal(page.headers.get("access-control-allow-origin"), `http://127.0.0.1:${TEST_PORTS.frontend}`);
    assert.match(page.headers.get("access-control-allow-headers") ?? "", /Authorization/i);
    const elsewhere = await preflight("https://evil.example");
    assert.equal(elsewhere.headers.get("access-control-allow-origin"), null);
  });

  it("documents the bearer scheme, and produced every sign-in answer it documents", async () => {
    const { shop, seen } = auth;
    const document = (
      await shop.request<{
        components: { securitySchemes: Record<string, { type: string; scheme: string }> };
        security: unknown[];
      }>("GET", "/api/openapi.json")
    ).body;
    assert.deepEqual(
      Object.values(document.components.securitySchemes).map((s) => [s.type, s.scheme]),
      [["http", "bearer"]],
    );
    assert.equal(document.security.length, 1);
    assert.deepEqual(
      documentedAnswers(SIGN_IN_STATUSES).filter((a) => !seen.has(a)),
      [],
      "every documented 401 and 403 was produced",
    );
  });
}
