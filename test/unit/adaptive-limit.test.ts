import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AdaptiveLimit } from "../../local/front/adaptive-limit.ts";

/** Answers `n` requests in turn, each after `rttMs`, with the limit's room all in use. */
function answer(limit: AdaptiveLimit, n: number, rttMs: number): void {
  for (let i = 0; i < n; i += 1) limit.answered(rttMs, limit.current);
}

describe("the front's adaptive limit", () => {
  it("starts at its initial value, so a fresh start takes a burst of that many whole", () => {
    assert.equal(new AdaptiveLimit({ initial: 128, min: 16, max: 256 }).current, 128);
  });

  it("grows toward max while answers come as fast as they usually do", () => {
    const limit = new AdaptiveLimit({ initial: 20, min: 16, max: 256 });
    answer(limit, 50, 20);
    const grown = limit.current;
    assert.ok(grown > 40, `grew to ${grown}`);
    answer(limit, 2_000, 20);
    assert.equal(limit.current, 256);
  });

  it("shrinks to its floor while answers come many times slower than usual, and recovers after", () => {
    const limit = new AdaptiveLimit({ initial: 128, min: 16, max: 256 });
    answer(limit, 200, 20); // the usual: 20 ms
    answer(limit, 40, 400); // a queue stands behind the front: 20 times slower
    assert.equal(limit.current, 16);
    answer(limit, 300, 20);
    assert.ok(limit.current >= 128, `back to ${limit.current}`);
  });

  it("holds a flood to its floor against the latency it had with room to spare, and climbs back once the flood is over", () => {
    const limit = new AdaptiveLimit({ initial: 128, min: 16, max: 256 });
    for (let i = 0; i < 50; i += 1) limit.answered(20, 2); // light load: 20 ms with room to spare
    answer(limit, 60, 1_000); // a flood: every place taken, answers 50 times slower
    assert.equal(limit.current, 16);
    answer(limit, 200, 1_000); // a long one: its slow answers never become the measure
    assert.equal(limit.current, 16);
    for (let i = 0; i < 150; i += 1) limit.answered(20, 2); // light load again
    assert.equal(limit.current, 128);
  });

  it("learns nothing from answers while it uses less than half its room", () => {
    const limit = new AdaptiveLimit({ initial: 100, min: 16, max: 256 });
    for (let i = 0; i < 100; i += 1) limit.answered(i % 2 ? 20 : 2_000, 10);
    assert.equal(limit.current, 100);
  });

  it("stays put when min = max, and refuses a range that makes no sense", () => {
    const fixed = new AdaptiveLimit({ initial: 2, min: 2, max: 2 });
    answer(fixed, 100, 5_000);
    answer(fixed, 100, 1);
    assert.equal(fixed.current, 2);
    assert.throws(() => new AdaptiveLimit({ initial: 300, min: 16, max: 256 }), /min <= initial <= max/);
  });
});
