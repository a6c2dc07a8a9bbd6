import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { withConnection } from "../../shared/db/connection.ts";
import { db } from "../../shared/db/pool.ts";
import { hasStandingQueue } from "../../shared/db/queue-meter.ts";
import { httpHandler } from "../../shared/handlers/http.ts";
import { startTestDatabases, type TestDatabases } from "../support/database.ts";
import { eventually } from "../support/shop-client.ts";

process.env.AUTH = "off";

/** One request's work: a connection of the orders pool, held for `ms`. */
const request = (ms: number) =>
  withConnection(db("orders"), async (client) => void (await client.query("SELECT pg_sleep($1)", [ms / 1000])));

/**
 * Load shedding on a real PostgreSQL: requests that hold a standing queue for connections are
 * refused at once with a 503 problem; a burst is not, and the refusals end once the queue drains.
 */
describe("load shedding, on PostgreSQL alone", () => {
  let databases: TestDatabases;
  before(async () => {
    databases = await startTestDatabases("load-shedding", 17534);
  });
  after(async () => {
    await databases?.stop();
  });

  const endpoint = httpHandler(async () => ({ status: 200, body: { ok: true } }));
  const call = () => endpoint({ rawPath: "/api/test", headers: {} } as APIGatewayProxyEventV2, {} as Context);

  it("takes in a burst whole, refuses at once while a standing queue lasts, and takes requests again once it has drained", async () => {
    const pool = db("orders");
    // A burst: three times as many requests as connections, each brief.
    await Promise.all(Array.from({ length: 3 * (pool.options.max ?? 10) }, () => request(20)));
    assert.equal(hasStandingQueue(), false, "a burst is no standing queue");

    // More work keeps coming than the connections can do: every request waits behind busy ones.
    let flooding = true;
    const flood = (async () => {
      const inFlight = new Set<Promise<void>>();
      while (flooding) {
        while (inFlight.size < 2 * (pool.options.max ?? 10)) {
          const one: Promise<void> = request(300).finally(() => inFlight.delete(one));
          inFlight.add(one);
        }
        await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    try {
      await eventually(async () => (hasStandingQueue() ? true : undefined), 10_000, "a standing queue noticed");
      const started = performance.now();
      const refused = await call();
      assert.ok(performance.now() - started < 100, "refused without waiting its turn");
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.headers?.["retry-after"], "1");
      assert.equal(refused.headers?.["content-type"], "application/problem+json");
      assert.match(JSON.parse(refused.body ?? "{}").detail, /more than it can handle/);
    } finally {
      flooding = false;
      await flood;
    }

    await eventually(async () => (hasStandingQueue() ? undefined : true), 10_000, "the standing queue forgiven");
    const taken = await call();
    assert.equal(taken.statusCode, 200);
  });
});
