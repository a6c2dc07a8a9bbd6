/** What the sign-in tests share: the stack they run on, a checked answer, a refused socket's status. */
import assert from "node:assert/strict";
import WebSocket from "ws";
import type { RunningStack, StackIdentity } from "../../../local/stack.ts";
import { assertDocumented } from "../../support/contract.ts";
import type { ShopClient } from "../../support/shop-client.ts";
import { type Shopper } from "../../support/shop-client.ts";

export type Problem = { type: string; title: string; status: number; detail: string; field?: string };

/** The handshake's answer when a WebSocket is refused ("Unexpected server response: 401"). */
export async function refusedWith(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => (ws.close(), reject(new Error(`${url} was let in`))));
    ws.once("unexpected-response", (_request, response) => (ws.terminate(), resolve(response.statusCode ?? 0)));
    ws.once("error", () => undefined);
  });
}

/** The suite's one stack and its signed-in shoppers, read once its `before` has run. */
export interface AuthStack {
  readonly stack: RunningStack;
  readonly identity: StackIdentity;
  readonly shop: ShopClient;
  readonly alice: Shopper;
  readonly bob: Shopper;
  /** Every answer the suite produced, as the OpenAPI document names it. */
  readonly seen: Set<string>;
}

export function authHelpers(auth: AuthStack) {
  /** A real answer, checked against the OpenAPI document; its problem body returned. */
  async function answer(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
    as: Shopper | undefined,
    status: number,
    field?: string,
  ): Promise<Problem> {
    const { shop, seen } = auth;
    const response = await shop.request<Problem>(method, path, body, headers, as);
    assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
    seen.add(assertDocumented(method, path, response));
    if (status >= 400) {
      assert.equal(response.body.status, status);
      assert.ok(response.body.title && response.body.detail);
      if (field) assert.equal(response.body.field, field, `${method} ${path}`);
    }
    if (status === 401) assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
    return response.body;
  }

  return { answer };
}
