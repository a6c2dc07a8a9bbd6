import type { RunningStack } from "../../../local/stack.ts";
import type { ShopClient } from "../../support/shop-client.ts";

/** The suite's one stack and its signed-in client, read once its `before` has run. */
export interface ShopStack {
  readonly stack: RunningStack;
  readonly shop: ShopClient;
}
