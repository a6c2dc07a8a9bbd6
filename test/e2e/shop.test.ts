import { after, before, describe } from "node:test";
import type { RunningStack } from "../../local/stack.ts";
import { ShopClient } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";
import type { ShopStack } from "./shop/context.ts";
import { metricsTests } from "./shop/metrics.ts";
import { orderTests } from "./shop/orders.ts";
import { pageTests } from "./shop/page.ts";
import { pushTests } from "./shop/pushes.ts";

/** The stack starts once; the tests, grouped by what they check, live in shop/. */

describe("the shop end to end (real Kafka, two real Postgres, cognito-local, serverless-offline; HTTP and WebSocket only, signed in)", () => {
  let stack: RunningStack;
  let shop: ShopClient;

  before(async () => {
    stack = await startTestStack("shop");
    shop = new ShopClient(stack.apiUrl, stack.wsUrl, stack.identity);
  });
  after(async () => {
    await stack?.stop();
  });

  const s: ShopStack = {
    get stack() {
      return stack;
    },
    get shop() {
      return shop;
    },
  };
  orderTests(s);
  metricsTests(s);
  pushTests(s);
  pageTests(s);
});
