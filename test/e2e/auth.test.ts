import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import type { RunningStack, StackIdentity } from "../../local/stack.ts";
import { ShopClient, type Shopper } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";
import { abuseLimitTests } from "./auth/abuse-limits.ts";
import type { AuthStack } from "./auth/context.ts";
import { ownershipTests } from "./auth/ownership.ts";
import { surfaceTests } from "./auth/surface.ts";
import { whoMayCallTests } from "./auth/who-may-call.ts";

/**
 * Sign-in end to end, with the real identity provider (cognito-local) and real tokens: who may call,
 * whose money and orders a caller may touch, whose frames a socket hears, and the abuse limits.
 * The stack starts once; the tests, grouped by what they check, live in auth/.
 */
describe("accounts belong to people (cognito-local, real tokens, the whole stack)", () => {
  let stack: RunningStack;
  let identity: StackIdentity;
  let shop: ShopClient;
  let alice: Shopper;
  let bob: Shopper;
  const seen = new Set<string>();

  before(async () => {
    stack = await startTestStack("auth");
    identity = stack.identity!;
    assert.ok(identity?.local, "the stack runs cognito-local");
    shop = new ShopClient(stack.apiUrl, stack.wsUrl, identity);
    [alice, bob] = [await shop.fundedShopper(1_000), await shop.fundedShopper(500)];
  });
  after(async () => {
    await stack?.stop();
  });

  const auth: AuthStack = {
    get stack() {
      return stack;
    },
    get identity() {
      return identity;
    },
    get shop() {
      return shop;
    },
    get alice() {
      return alice;
    },
    get bob() {
      return bob;
    },
    seen,
  };
  whoMayCallTests(auth);
  ownershipTests(auth);
  abuseLimitTests(auth);
  surfaceTests(auth);
});
