import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startFrontend } from "../../local/frontend/server.ts";
import { tracesExporterOf } from "../../shared/config.ts";
import { tracesPlan } from "../../local/zipkin/part.ts";
import { freePort } from "../support/ports.ts";

/**
 * Which spans go where (local/zipkin/part.ts): through the OTLP bridge into the start command's own
 * Zipkin by default, or into the one ZIPKIN_URL names; nothing with TRACES=off; an exporter the
 * environment already names left as it is, unless it is the Zipkin exporter, which is refused. And
 * what the page is told about it (/config.js).
 */

describe("the stack's traces", () => {
  it("go through the bridge to the stack's own Zipkin by default, which the page links to", () => {
    const plan = tracesPlan({}, 4411);
    assert.equal(plan.zipkin, true);
    assert.equal(plan.bridgeTo, "http://127.0.0.1:4411");
    assert.equal(plan.tracesUrl, "http://127.0.0.1:4411/zipkin/");
    assert.deepEqual(plan.offlineEnv, {}, "the bridge's exporterEnv sets OTLP at it");
    assert.equal(plan.without, undefined);
    assert.equal(tracesPlan({ TRACES: "on" }, 4411).zipkin, true);
  });

  it("go through the bridge to the Zipkin ZIPKIN_URL names, and then no Zipkin starts", () => {
    const plan = tracesPlan({ ZIPKIN_URL: "http://zipkin:9411" }, 4411);
    assert.equal(plan.zipkin, false);
    assert.equal(plan.bridgeTo, "http://zipkin:9411");
    assert.equal(plan.tracesUrl, "http://zipkin:9411/zipkin/");
    assert.match(plan.without ?? "", /ZIPKIN_URL/);
    const published = tracesPlan(
      { ZIPKIN_URL: "http://zipkin:9411", TRACES_URL: "http://localhost:9411/zipkin/" },
      4411,
    );
    assert.equal(published.tracesUrl, "http://localhost:9411/zipkin/");
  });

  it("are not sent with TRACES=off, whatever exporter the environment names, and no Zipkin starts", () => {
    for (const env of [
      { TRACES: "off" },
      { TRACES: "off", OTEL_TRACES_EXPORTER: "otlp", TRACES_URL: "http://jaeger:16686/" },
      { TRACES: "off", ZIPKIN_URL: "http://zipkin:9411" },
    ]) {
      const plan = tracesPlan(env, 4411);
      assert.equal(plan.zipkin, false);
      assert.equal(plan.bridgeTo, undefined);
      assert.equal(plan.tracesUrl, undefined);
      assert.deepEqual(plan.offlineEnv, { OTEL_TRACES_EXPORTER: "none" });
      assert.match(plan.without ?? "", /TRACES=off/);
    }
  });

  it("go where OTEL_TRACES_EXPORTER says when the environment sets it: its OTEL_* variables are left alone and no Zipkin starts", () => {
    const plan = tracesPlan(
      { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" },
      4411,
    );
    assert.equal(plan.zipkin, false);
    assert.equal(plan.bridgeTo, undefined);
    assert.deepEqual(plan.offlineEnv, {}, "the stack's environment reaches serverless-offline as it is");
    assert.equal(plan.tracesUrl, undefined);
    assert.match(plan.without ?? "", /OTEL_TRACES_EXPORTER=otlp/);
    assert.equal(
      tracesPlan({ OTEL_TRACES_EXPORTER: "otlp", TRACES_URL: "http://localhost:16686/" }, 4411).tracesUrl,
      "http://localhost:16686/",
    );
  });

  it("refuse OTEL_TRACES_EXPORTER=zipkin before anything starts, and so do the functions, saying to use otlp", () => {
    for (const value of ["zipkin", "Zipkin", "otlp,zipkin"]) {
      assert.throws(() => tracesPlan({ OTEL_TRACES_EXPORTER: value }, 4411), /no longer supported: use otlp/);
      assert.throws(() => tracesExporterOf({ OTEL_TRACES_EXPORTER: value }), /no longer supported: use otlp/);
    }
    assert.equal(tracesExporterOf({ OTEL_TRACES_EXPORTER: "otlp" }), "otlp");
    assert.equal(tracesExporterOf({ OTEL_TRACES_EXPORTER: "otlp", OTEL_SDK_DISABLED: "true" }), "none");
    assert.equal(tracesExporterOf({}), "none");
  });

  it("are linked from the page through /config.js: tracesUrl, null without traces", async () => {
    for (const tracesUrl of ["http://127.0.0.1:4411/zipkin/", undefined]) {
      const frontend = await startFrontend({
        port: await freePort(),
        host: "127.0.0.1",
        apiUrl: "http://127.0.0.1:3000",
        wsUrl: "ws://127.0.0.1:3001",
        tracesUrl,
      });
      try {
        const script = await (await fetch(`${frontend.url}/config.js`, { signal: AbortSignal.timeout(5_000) })).text();
        const config = JSON.parse(/^window\.GOZON_CONFIG = (.*);$/m.exec(script)?.[1] ?? "{}") as {
          tracesUrl?: string | null;
        };
        assert.equal(config.tracesUrl, tracesUrl ?? null);
      } finally {
        await frontend.stop();
      }
    }
  });

  it("open an order's trace from /traces/<order id>, and refuse what is not one with a problem naming the field", async () => {
    const zipkin = `http://127.0.0.1:${await freePort()}/zipkin/`; // nothing listens there
    for (const tracesUrl of [zipkin, undefined]) {
      const frontend = await startFrontend({
        port: await freePort(),
        host: "127.0.0.1",
        apiUrl: "http://127.0.0.1:3000",
        wsUrl: "ws://127.0.0.1:3001",
        tracesUrl,
      });
      try {
        const ask = async (id: string) => {
          const response = await fetch(`${frontend.url}/traces/${id}`, {
            redirect: "manual",
            signal: AbortSignal.timeout(10_000),
          });
          assert.equal(response.headers.get("content-type"), "application/problem+json");
          return {
            status: response.status,
            body: (await response.json()) as { status: number; field?: string; detail: string },
          };
        };
        const order = "0b6a4a3e-6f1d-4b52-9a54-3c1f8e9d2a10";
        if (!tracesUrl) {
          const off = await ask(order);
          assert.equal(off.status, 404);
          assert.match(off.body.detail, /TRACES=off/);
          continue;
        }
        for (const bad of ["not-an-id", "%E0%A4%A", "0b6a4a3e-6f1d-4b52-9a54-3c1f8e9d2a10%00", "x".repeat(5_000)]) {
          const refused = await ask(bad);
          assert.equal(refused.status, 400, bad.slice(0, 40));
          assert.equal(refused.body.field, "id");
        }
        const away = await ask(order);
        assert.equal(away.status, 503, "Zipkin does not answer");
        assert.equal(away.body.status, 503);
      } finally {
        await frontend.stop();
      }
    }
  });
});
