import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Context } from "aws-lambda";
import { config } from "../../shared/config.ts";
import { invocation } from "../../shared/handlers/invocations.ts";
import { WARM_UP_EVENT, WARMED } from "../../shared/handlers/warm-up.ts";
import { logger } from "../../shared/logger.ts";

// The configuration is read once per process, on first use (shared/config.ts): set before any invocation.
const REPORT_MS = 20;
process.env.INVOCATION_REPORT_MS = String(REPORT_MS);

type Totals = Record<string, { count: number; ms: number; billed_ms: number }>;

/**
 * The invocation meter (shared/handlers/invocations.ts), which the benchmark prices orders from:
 * each invocation counted under its function, its duration billed as Lambda bills it (rounded up to
 * the millisecond, at least 1), and the warm-up event answered without being counted.
 *
 * The clock the meter reads (performance.now) is a fake one that only the handlers move, so the
 * durations are exact; the "invocations" lines are taken from the logger as they are written.
 */
function meter(t: TestContext) {
  let now = 1024;
  t.mock.method(performance, "now", () => now);
  const reports: Totals[] = [];
  t.mock.method(logger, "info", (fields: { invocations?: Totals }, msg?: string) => {
    if (msg === "invocations" && fields.invocations) reports.push(structuredClone(fields.invocations));
  });
  /** A handler that takes `ms` on the fake clock. */
  const handler = invocation(async (event: { ms: number }, context: Context) => {
    now += event.ms;
    return context.functionName;
  });
  const context = (functionName: string) => ({ functionName }) as Context;
  /** Every report until `count` invocations were reported, then REPORT_MS * 3 more: nothing counted may come later. */
  async function reported(count: number): Promise<Totals> {
    const deadline = Date.now() + 5_000;
    const sum = () => reports.flatMap((r) => Object.values(r)).reduce((n, t) => n + t.count, 0);
    while (sum() < count && Date.now() < deadline) await sleep(REPORT_MS / 2);
    await sleep(REPORT_MS * 3);
    const totals: Totals = {};
    for (const [name, t] of reports.flatMap((r) => Object.entries(r))) {
      const sum = (totals[name] ??= { count: 0, ms: 0, billed_ms: 0 });
      totals[name] = { count: sum.count + t.count, ms: sum.ms + t.ms, billed_ms: sum.billed_ms + t.billed_ms };
    }
    return totals;
  }
  return { handler, context, reported };
}

describe("the invocation meter", () => {
  it("reports every invocation under its function, billed rounded up to the millisecond, at least 1", async (t) => {
    assert.equal(config().invocationReportMs, REPORT_MS, "INVOCATION_REPORT_MS was read before the test set it");
    const { handler, context, reported } = meter(t);
    // createOrder: 0.25 ms bills 1, 2.5 bills 3, 7 bills 7 (a whole millisecond is not rounded up
    // further), 0 bills 1 (the minimum): 4 invocations, 9.75 ms, 1 + 3 + 7 + 1 = 12 billed ms.
    for (const ms of [0.25, 2.5, 7, 0])
      assert.equal(await handler({ ms }, context("gozon-shop-dev-createOrder")), "gozon-shop-dev-createOrder");
    // wsSync: 1.125 ms bills 2, 0.5 bills 1: 2 invocations, 1.625 ms, 3 billed ms.
    for (const ms of [1.125, 0.5]) await handler({ ms }, context("gozon-shop-dev-wsSync"));
    assert.deepEqual(await reported(6), {
      "gozon-shop-dev-createOrder": { count: 4, ms: 9.75, billed_ms: 12 },
      "gozon-shop-dev-wsSync": { count: 2, ms: 1.625, billed_ms: 3 },
    });
  });

  it('answers the warm-up event "warmed" and does not count it', async (t) => {
    const { handler, context, reported } = meter(t);
    const warmUp = handler as unknown as (event: typeof WARM_UP_EVENT, context: Context) => Promise<unknown>;
    // A function only warmed (health) must not appear at all; one warmed between real invocations
    // (getOrder) counts only those: 3 ms bills 3, 0.75 bills 1.
    assert.equal(await warmUp(WARM_UP_EVENT, context("gozon-shop-dev-health")), WARMED);
    assert.equal(await warmUp(WARM_UP_EVENT, context("gozon-shop-dev-getOrder")), WARMED);
    await handler({ ms: 3 }, context("gozon-shop-dev-getOrder"));
    assert.equal(await warmUp(WARM_UP_EVENT, context("gozon-shop-dev-getOrder")), WARMED);
    await handler({ ms: 0.75 }, context("gozon-shop-dev-getOrder"));
    assert.equal(await warmUp(WARM_UP_EVENT, context("gozon-shop-dev-health")), WARMED);
    assert.deepEqual(await reported(2), { "gozon-shop-dev-getOrder": { count: 2, ms: 3.75, billed_ms: 4 } });
  });
});
