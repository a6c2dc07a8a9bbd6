import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

/**
 * What each file in patches/ changes in node_modules (docs/patches.md), proved on the patched code
 * itself: when a patch stops applying or an upgrade drops a change, the test of that change fails.
 */

/** A module of serverless-offline's source (the package exports none of them). */
const serverlessOffline = (file: string) =>
  import(new URL(`../../node_modules/serverless-offline/src/${file}`, import.meta.url).href) as Promise<{
    default: new (...args: unknown[]) => Record<string, (...args: unknown[]) => unknown>;
  }>;
/** Timers alive in this process right now. */
const liveTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

describe("serverless-offline+14.8.5.patch", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "patched-"));
    await writeFile(path.join(dir, "handler.mjs"), "export const handler = async () => ({ statusCode: 200 })\n");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("WebSocketClients: answers an async authorizer's thrown Unauthorized with 401, as API Gateway does", async () => {
    const { default: WebSocketClients } = await serverlessOffline("events/websocket/WebSocketClients.js");
    const authorizer = { setEvent() {}, runHandler: () => Promise.reject(new Error("Unauthorized")) };
    const serverless = {
      service: {
        provider: {},
        getAllFunctions: () => ["wsAuthorize"],
        getFunction: () => ({ handler: "handler.handler" }),
      },
    };
    const clients = new WebSocketClients(serverless, { websocketPort: 3001 }, { get: () => authorizer });
    clients.addRoute!("connect", { route: "$connect", authorizer: { name: "wsAuthorize" } });
    const request = { headers: { host: "127.0.0.1" }, rawHeaders: ["Host", "127.0.0.1"], url: "/?token=bad" };
    assert.deepEqual(await clients.verifyClient!("connection-1", request), { statusCode: 401, verified: false });
  });

  it("InProcessRunner: resolves a handler once, so an invocation after its file is gone still answers", async () => {
    const { default: InProcessRunner } = await serverlessOffline(
      "lambda/handler-runner/in-process-runner/InProcessRunner.js",
    );
    await writeFile(path.join(dir, "once.mjs"), "export const handler = async () => 'answered'\n");
    const runner = new InProcessRunner({ codeDir: dir, handler: "once.handler", servicePath: dir, timeout: 5_000 }, {});
    const context = { awsRequestId: "1", functionName: "once" };
    assert.equal(await runner.run!({}, context), "answered");
    await rm(path.join(dir, "once.mjs"));
    assert.equal(await runner.run!({}, context), "answered");
  });

  // Upstream since 14.8.5 (the patch for 14.8.2 did it): kept as a test, since the shop relies on it.
  it("LambdaFunction: an invocation leaves no timer behind (its timeout timer used to run the full timeout)", async () => {
    const { default: LambdaFunction } = await serverlessOffline("lambda/LambdaFunction.js");
    const serverless = {
      service: { service: "shop", provider: { runtime: "nodejs24.x", region: "us-east-1" }, package: {} },
      config: { serverlessPath: dir, servicePath: dir },
      serviceDir: dir,
    };
    const lambda = new LambdaFunction(
      "hello",
      { handler: "handler.handler", name: "shop-hello", timeout: 30 },
      serverless,
      { useInProcess: true },
    );
    lambda.setEvent!({});
    await lambda.runHandler!();
    const before = liveTimers();
    lambda.setEvent!({});
    await lambda.runHandler!();
    assert.equal(liveTimers(), before);
    await lambda.cleanup?.();
  });
});
