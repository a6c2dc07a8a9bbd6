import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { startFront } from "../../local/front/server.ts";

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

/** One request on a connection of its own, as a client across the internet sends it. */
function request(
  port: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, agent: false, headers }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * The HTTP front (local/front/server.ts) between real sockets: a real upstream server that holds
 * its answers until told, as a busy serverless-offline does, and then none at all.
 */
describe("the HTTP front admits at most its limit and refuses the rest at once", () => {
  const held: Array<() => void> = [];
  let upstream: http.Server;
  let front: http.Server;
  let frontPort: number;
  let upstreamPort: number;

  before(async () => {
    upstream = http.createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () =>
        held.push(() => {
          res.writeHead(201, { "content-type": "application/json", "x-seen-path": req.url ?? "" });
          res.end(JSON.stringify({ echoed: body, method: req.method }));
        }),
      );
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    upstreamPort = (upstream.address() as AddressInfo).port;
    front = await startFront({
      host: "127.0.0.1",
      port: 0,
      target: { host: "127.0.0.1", port: upstreamPort },
      limit: { initial: 2, min: 2, max: 2 },
    });
    frontPort = (front.address() as AddressInfo).port;
  });
  after(() => {
    front?.close();
    upstream?.close();
  });

  it("passes requests on whole, refuses the one over the limit with a 429 problem at once, and admits again once a place is free", async () => {
    const first = request(frontPort, "POST", "/api/orders?x=1", '{"amount":1}', { "content-type": "application/json" });
    const second = request(frontPort, "POST", "/api/orders", '{"amount":2}', { "content-type": "application/json" });
    await waitFor(() => held.length === 2);

    const started = performance.now();
    const refused = await request(frontPort, "POST", "/api/orders", '{"amount":3}', {
      "content-type": "application/json",
    });
    assert.ok(performance.now() - started < 500, "refused without waiting for a place");
    assert.equal(refused.status, 429);
    assert.equal(refused.headers["retry-after"], "1");
    assert.equal(refused.headers["content-type"], "application/problem+json");
    assert.equal(JSON.parse(refused.body).status, 429);

    held.shift()!();
    const answered = await first;
    assert.equal(answered.status, 201);
    assert.equal(answered.headers["x-seen-path"], "/api/orders?x=1");
    assert.deepEqual(JSON.parse(answered.body), { echoed: '{"amount":1}', method: "POST" });

    const third = request(frontPort, "POST", "/api/orders", '{"amount":4}');
    await waitFor(() => held.length === 2);
    held.splice(0).forEach((answer) => answer());
    assert.equal((await second).status, 201);
    assert.equal(JSON.parse((await third).body).echoed, '{"amount":4}');
  });

  it("answers 503 with Retry-After while nothing listens behind it", async () => {
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    const answer = await request(frontPort, "GET", "/api/health");
    assert.equal(answer.status, 503);
    assert.equal(answer.headers["retry-after"], "1");
    assert.equal(JSON.parse(answer.body).title, "Service Unavailable");
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition();) {
    if (Date.now() - started > 5_000) throw new Error("condition not reached in 5 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
