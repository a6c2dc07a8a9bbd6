import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { coalesceFrames, type Frame } from "../../shared/contract/frames.ts";

const USER = "7b0a3c1e-0b55-4c1e-9d7e-3f3c1a2b4c5d";
const ORDER = "2f1d8e4a-6c3b-4a9e-8f7d-1e2c3b4a5d6e";
const order: Frame = {
  type: "ORDER_UPDATED",
  order_id: ORDER,
  status: "FINISHED",
  reason: null,
  amount: 300,
  description: "keyboard",
  updated_at: "2026-12-06T21:00:00.000Z",
};
const balance = (value: number, version: number): Frame => ({
  type: "BALANCE_UPDATED",
  user_id: USER,
  balance: value,
  version,
});

describe("one change's frames as the user gets them", () => {
  it("puts the balance an order's payment left on the order's frame: one frame, not two", () => {
    assert.deepEqual(coalesceFrames([order, balance(700, 3)]), [{ ...order, balance: 700, balance_version: 3 }]);
    assert.deepEqual(coalesceFrames([balance(700, 3), order]), [{ ...order, balance: 700, balance_version: 3 }]);
  });

  it("takes the newest of several balances", () => {
    assert.deepEqual(coalesceFrames([order, balance(700, 3), balance(650, 5), balance(680, 4)]), [
      { ...order, balance: 650, balance_version: 5 },
    ]);
  });

  it("leaves a balance alone when no order changed with it, and an order alone when no balance moved", () => {
    assert.deepEqual(coalesceFrames([balance(1000, 2)]), [balance(1000, 2)]);
    assert.deepEqual(coalesceFrames([order]), [order]);
  });
});
