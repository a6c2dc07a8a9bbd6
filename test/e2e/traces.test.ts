import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import type { RunningStack } from "../../local/stack.ts";
import { ShopClient } from "../support/shop-client.ts";
import { startTestStack } from "../support/stack.ts";
import type { LogLine, TracesStack } from "./traces/context.ts";
import { deadLetterTraceTests } from "./traces/dead-letters.ts";
import { orderTraceTests } from "./traces/order-trace.ts";
import { pageTraceTests } from "./traces/page.ts";

/**
 * One trace per order, read back from the real Zipkin the stack runs, and the same trace id in the
 * functions' log lines: from the POST through both outboxes, the charge and the status change, to
 * the pushes on the user's socket. The stack runs with AUTH=off: this is about traces, not identity.
 * The stack starts once; the tests, grouped by what they check, live in traces/.
 */
describe("every order is one trace, in Zipkin", () => {
  let stack: RunningStack;
  let shop: ShopClient;
  let zipkinApi: string;
  const logs: LogLine[] = [];

  before(async () => {
    stack = await startTestStack("traces", {
      env: { AUTH: "off", TRACES: "on" },
      output: (line) => {
        if (!line.startsWith("{")) return;
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a function's log line
        }
      },
    });
    assert.ok(stack.tracesUrl, "the stack names its trace viewer");
    zipkinApi = new URL("/api/v2/", stack.tracesUrl).href;
    await stack.zipkinReady();
    shop = new ShopClient(stack.apiUrl, stack.wsUrl);
  });
  after(async () => {
    await stack?.stop();
  });

  const t: TracesStack = {
    get stack() {
      return stack;
    },
    get shop() {
      return shop;
    },
    get zipkinApi() {
      return zipkinApi;
    },
    logs,
  };
  orderTraceTests(t);
  pageTraceTests(t);
  deadLetterTraceTests(t);
});
