import { randomUUID } from "node:crypto";
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import WebSocket from "ws";
import type { StackIdentity } from "../../local/stack.ts";

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A signed-up, confirmed and signed-in user of the stack's user pool. */
export interface Shopper {
  /** The token's `sub`: the user id every table keys by. */
  id: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
}

/**
 * Who a request is for: a signed-in shopper (its access token goes along; no user_id is sent), or,
 * on a stack run with AUTH=off, a bare user id (sent as user_id, as before sign-in existed).
 */
export type As = Shopper | string;

const tokenOf = (who: As | undefined): string | undefined => (who && typeof who !== "string" ? who.token : undefined);
/** What a request body or query says about its user: nothing when a token says it. */
const named = (who: As): { user_id?: string } => (typeof who === "string" ? { user_id: who } : {});
const query = (values: Record<string, string | undefined>) => {
  const entries = Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : "";
};

/** A shopper talking to the stack over HTTP and WebSocket only, as the browser does. */
export class ShopClient {
  constructor(
    readonly apiUrl: string,
    readonly wsUrl: string,
    /** The stack's user pool; needed to sign up (stacks with AUTH=off have none). */
    readonly identity?: StackIdentity,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    as?: As,
  ): Promise<ApiResponse<T>> {
    const token = tokenOf(as);
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
  }

  createAccount(who: As) {
    return this.request("POST", "/api/payments/create_account", named(who), {}, who);
  }
  deposit(who: As, amount: number, idempotencyKey?: string) {
    return this.request(
      "POST",
      "/api/payments/deposit",
      { ...named(who), amount },
      idempotencyKey ? { "idempotency-key": idempotencyKey } : {},
      who,
    );
  }
  balance(who: As) {
    return this.request<{ balance: number }>("GET", `/api/payments/balance${query(named(who))}`, undefined, {}, who);
  }
  placeOrder(who: As, amount: number, description = "test order", idempotencyKey?: string) {
    return this.request<{ order_id: string; status: string }>(
      "POST",
      "/api/orders",
      { ...named(who), amount, description },
      idempotencyKey ? { "idempotency-key": idempotencyKey } : {},
      who,
    );
  }
  order(orderId: string, who?: As) {
    return this.request<{ id: string; status: string; reason: string | null }>(
      "GET",
      `/api/orders/${orderId}`,
      undefined,
      {},
      who,
    );
  }
  orders(who: As, page: { limit?: number; cursor?: string } = {}) {
    return this.request<Array<{ id: string; status: string }>>(
      "GET",
      `/api/orders${query({ ...named(who), limit: page.limit?.toString(), cursor: page.cursor })}`,
      undefined,
      {},
      who,
    );
  }

  /** Opens a socket for the user (?token= when signed in, ?user_id= with AUTH=off) and collects every frame it receives. */
  async connect(who: As, extra: Record<string, string> = {}): Promise<Socket> {
    const params = typeof who === "string" ? { user_id: who, ...extra } : { token: who.token, ...extra };
    const socket = new Socket(new WebSocket(`${this.wsUrl}${query(params)}`));
    await socket.opened;
    return socket;
  }

  /** A new user of the stack's pool: signed up with e-mail and password, confirmed with the e-mailed code, signed in. */
  async signUp(email = `shopper-${randomUUID()}@example.com`, password = `pw-${randomUUID()}`): Promise<Shopper> {
    const identity = this.identity;
    if (!identity) throw new Error("this stack runs with AUTH=off: there is nobody to sign up with");
    const cognito = new CognitoIdentityProviderClient({
      endpoint: identity.endpoint,
      region: identity.region,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    try {
      const { UserSub } = await cognito.send(
        new SignUpCommand({
          ClientId: identity.clientId,
          Username: email,
          Password: password,
          UserAttributes: [{ Name: "email", Value: email }],
        }),
      );
      await cognito.send(
        new ConfirmSignUpCommand({
          ClientId: identity.clientId,
          Username: email,
          ConfirmationCode: await identity.confirmationCode(email),
        }),
      );
      const shopper = await this.signIn(email, password);
      if (shopper.id !== UserSub) throw new Error(`signed up as ${UserSub}, signed in as ${shopper.id}`);
      return shopper;
    } finally {
      cognito.destroy();
    }
  }

  /** Signs an existing user in again (e-mail and password): a fresh access token. */
  async signIn(email: string, password: string): Promise<Shopper> {
    const identity = this.identity;
    if (!identity) throw new Error("this stack runs with AUTH=off: there is nobody to sign in");
    const cognito = new CognitoIdentityProviderClient({
      endpoint: identity.endpoint,
      region: identity.region,
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    try {
      const { AuthenticationResult: tokens } = await cognito.send(
        new InitiateAuthCommand({
          ClientId: identity.clientId,
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      );
      const sub = JSON.parse(Buffer.from(tokens!.AccessToken!.split(".")[1]!, "base64url").toString()) as {
        sub: string;
      };
      return { id: sub.sub, email, password, token: tokens!.AccessToken!, refreshToken: tokens!.RefreshToken! };
    } finally {
      cognito.destroy();
    }
  }

  /** A signed-up user with an account holding `balance`. */
  async fundedShopper(balance: number): Promise<Shopper> {
    const shopper = await this.signUp();
    const opened = await this.createAccount(shopper);
    if (opened.status !== 201) throw new Error(`account not opened: ${opened.status} ${JSON.stringify(opened.body)}`);
    if (balance > 0) {
      const deposited = await this.deposit(shopper, balance);
      if (deposited.status !== 200)
        throw new Error(`deposit refused: ${deposited.status} ${JSON.stringify(deposited.body)}`);
    }
    return shopper;
  }
}

export type Frame = { type: string } & Record<string, unknown>;

export class Socket {
  readonly frames: Frame[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    this.closed = new Promise((resolve) =>
      ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.waiters.splice(0).forEach((wake) => wake());
    });
  }

  /** Resolves with the first frame (already received or still to come) that matches. */
  async waitFor(match: (frame: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

export const newUserId = (): string => randomUUID();

/** Polls until `check` returns a value, for state that settles asynchronously. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
