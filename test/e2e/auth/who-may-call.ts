/** Who may call: no token, a bad token, a token of another pool or client. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  InitiateAuthCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { createUserPool } from "../../../local/cognito/identity-provider.ts";
import { ShopClient } from "../../support/shop-client.ts";
import { expiredCopy, faithfulCopy, mintedWithPublishedKey, signedByAnotherKey } from "../../support/tokens.ts";
import { authHelpers, type AuthStack } from "./context.ts";

export function whoMayCallTests(auth: AuthStack): void {
  const { answer } = authHelpers(auth);
  describe("who may call", () => {
    const protectedRequests = (): Array<[string, string, unknown?]> => [
      ["POST", "/api/payments/create_account", {}],
      ["POST", "/api/payments/deposit", { amount: 1 }],
      ["GET", "/api/payments/balance"],
      ["POST", "/api/orders", { amount: 1 }],
      ["GET", "/api/orders"],
      ["GET", `/api/orders/${randomUUID()}`],
    ];

    it("answers every endpoint but health and the document 401 without a token, naming Authorization", async () => {
      const { shop } = auth;
      for (const [method, path, body] of protectedRequests())
        await answer(method, path, body, {}, undefined, 401, "Authorization");
      assert.equal((await shop.request("GET", "/api/health")).status, 200);
      assert.equal((await shop.request("GET", "/api/openapi.json")).status, 200);
    });

    it("refuses an expired token, one signed by another key, a tampered one, and not a bearer token, with 401", async () => {
      const { identity, shop, alice, bob } = auth;
      // A copy signed with the identity provider's own key is accepted: the copies differ only where they say.
      assert.equal((await shop.balance({ ...alice, token: await faithfulCopy(alice.token, identity) })).status, 200);
      const expired = await answer(
        "GET",
        "/api/payments/balance",
        undefined,
        {},
        { ...alice, token: await expiredCopy(alice.token, identity) },
        401,
        "Authorization",
      );
      assert.match(expired.detail, /expired/);
      const forged = await answer(
        "POST",
        "/api/payments/deposit",
        { amount: 5 },
        {},
        { ...alice, token: await signedByAnotherKey(alice.token) },
        401,
        "Authorization",
      );
      assert.match(forged.detail, /signature/i);
      const [header, payload, signature] = alice.token.split(".");
      const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
      const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: bob.id })).toString("base64url")}.${signature}`;
      await answer("GET", "/api/orders", undefined, {}, { ...alice, token: tampered }, 401, "Authorization");
      await answer(
        "GET",
        "/api/orders",
        undefined,
        { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
        undefined,
        401,
        "Authorization",
      );
      assert.equal((await shop.balance(alice)).body.balance, 1_000, "nothing moved");
    });

    it("refuses a token minted for an existing user with the key published in cognito-local's package, with 401", async () => {
      const { shop, alice } = auth;
      // The stack signs with a key of its own: anyone can download the package's key.
      const minted = await mintedWithPublishedKey(alice.token);
      const refused = await answer(
        "GET",
        "/api/payments/balance",
        undefined,
        {},
        { ...alice, token: minted },
        401,
        "Authorization",
      );
      assert.match(refused.detail, /signature/i);
      await answer("POST", "/api/orders", { amount: 1 }, {}, { ...alice, token: minted }, 401, "Authorization");
      assert.equal((await shop.balance(alice)).status, 200, "alice's own token still works");
    });

    it("refuses a real token of another user pool, of another app client of this pool, and an id token, with 401", async () => {
      const { stack, identity, alice } = auth;
      // A second pool in the same cognito-local: same signing key, another issuer.
      const otherPool = new ShopClient(stack.apiUrl, stack.wsUrl, {
        ...identity,
        ...(await createUserPool(identity.endpoint, "another-shop")),
      });
      const stranger = await otherPool.signUp();
      const wrongPool = await answer("GET", "/api/payments/balance", undefined, {}, stranger, 401, "Authorization");
      assert.match(wrongPool.detail, /issuer/i);

      const cognito = new CognitoIdentityProviderClient({
        endpoint: identity.endpoint,
        region: identity.region,
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
      });
      try {
        const { UserPoolClient: otherClient } = await cognito.send(
          new CreateUserPoolClientCommand({
            UserPoolId: identity.userPoolId,
            ClientName: "another-app",
            ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH"],
          }),
        );
        const signIn = (clientId: string) =>
          cognito.send(
            new InitiateAuthCommand({
              ClientId: clientId,
              AuthFlow: "USER_PASSWORD_AUTH",
              AuthParameters: { USERNAME: alice.email, PASSWORD: alice.password },
            }),
          );
        const viaOtherApp = (await signIn(otherClient!.ClientId!)).AuthenticationResult!.AccessToken!;
        const wrongClient = await answer(
          "GET",
          "/api/payments/balance",
          undefined,
          {},
          { ...alice, token: viaOtherApp },
          401,
          "Authorization",
        );
        assert.match(wrongClient.detail, /client/i);
        const idToken = (await signIn(identity.clientId)).AuthenticationResult!.IdToken!;
        const wrongUse = await answer(
          "GET",
          "/api/payments/balance",
          undefined,
          {},
          { ...alice, token: idToken },
          401,
          "Authorization",
        );
        assert.match(wrongUse.detail, /token use/i);
      } finally {
        cognito.destroy();
      }
    });
  });
}
