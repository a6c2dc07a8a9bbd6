/** Sign-in: the Cognito pool and client, CORS, and the WebSocket's authorizer. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { FUNCTIONS, functionLogicalId } from "./expected.ts";
import { readerOf, type PackagedTemplate } from "./template.ts";

export function signInTests(t: PackagedTemplate): void {
  const { env } = readerOf(t);

  it("declares the stage's Cognito user pool and the page's app client, kept when the stack goes", () => {
    const { resources } = t;
    const pool = resources.CognitoUserPool!;
    assert.equal(pool.Type, "AWS::Cognito::UserPool");
    assert.equal((pool as unknown as { DeletionPolicy: string }).DeletionPolicy, "Retain");
    assert.deepEqual(pool.Properties.UsernameAttributes, ["email"]);
    assert.deepEqual(pool.Properties.AutoVerifiedAttributes, ["email"]);
    const client = resources.CognitoUserPoolClient!;
    assert.equal(client.Type, "AWS::Cognito::UserPoolClient");
    assert.deepEqual(client.Properties.UserPoolId, { Ref: "CognitoUserPool" });
    assert.equal(client.Properties.GenerateSecret, false, "a browser cannot keep a client secret");
    assert.deepEqual((client.Properties.ExplicitAuthFlows as string[]).sort(), [
      "ALLOW_REFRESH_TOKEN_AUTH",
      "ALLOW_USER_PASSWORD_AUTH",
    ]);
    assert.equal(client.Properties.EnableTokenRevocation, true);
  });

  it("hands every function that pool and client, with sign-in on, and lets only the page's origins call the API", () => {
    const { resources } = t;
    for (const key of FUNCTIONS) {
      const vars = env(key);
      assert.equal(vars.AUTH, "on", key);
      assert.deepEqual(vars.COGNITO_USER_POOL_ID, { Ref: "CognitoUserPool" }, key);
      assert.deepEqual(vars.COGNITO_CLIENT_ID, { Ref: "CognitoUserPoolClient" }, key);
      assert.equal(vars.COGNITO_ISSUER, "", `${key}: the issuer is Cognito's own, derived from region and pool`);
    }
    const api = Object.values(resources).find(
      (r) => r.Type === "AWS::ApiGatewayV2::Api" && r.Properties.ProtocolType === "HTTP",
    )!;
    const cors = api.Properties.CorsConfiguration as {
      AllowOrigins: string[];
      AllowHeaders: string[];
      ExposeHeaders: string[];
    };
    assert.deepEqual(cors.AllowOrigins, ["https://shop.example.com"]);
    assert.ok(cors.AllowHeaders.includes("Authorization"));
    assert.ok(cors.ExposeHeaders.includes("Next-Cursor"));
  });

  it("authorizes the WebSocket's $connect with the wsAuthorize Lambda (REQUEST, ?token=), and nothing else needs it", () => {
    const { resources } = t;
    const authorizers = Object.entries(resources).filter(([, r]) => r.Type === "AWS::ApiGatewayV2::Authorizer");
    assert.equal(authorizers.length, 1);
    const [authorizerId, authorizer] = authorizers[0]!;
    assert.equal(authorizer.Properties.AuthorizerType, "REQUEST");
    assert.deepEqual(authorizer.Properties.IdentitySource, ["route.request.querystring.token"]);
    assert.ok(
      JSON.stringify(authorizer.Properties.AuthorizerUri).includes(functionLogicalId("wsAuthorize")),
      "the authorizer runs wsAuthorize",
    );
    const routes = Object.values(resources).filter(
      (r) => r.Type === "AWS::ApiGatewayV2::Route" && !/ /.test(String(r.Properties.RouteKey)),
    );
    const connect = routes.find((r) => r.Properties.RouteKey === "$connect")!;
    assert.equal(connect.Properties.AuthorizationType, "CUSTOM");
    assert.deepEqual(connect.Properties.AuthorizerId, { Ref: authorizerId });
    assert.deepEqual(routes.map((r) => r.Properties.RouteKey).sort(), ["$connect", "$default", "$disconnect", "sync"]);
    for (const route of routes.filter((r) => r !== connect))
      assert.equal(route.Properties.AuthorizationType ?? "NONE", "NONE", "API Gateway authorizes $connect only");
    const mayInvoke = Object.values(resources).filter(
      (r) =>
        r.Type === "AWS::Lambda::Permission" &&
        JSON.stringify(r.Properties.FunctionName).includes(functionLogicalId("wsAuthorize")),
    );
    assert.equal(mayInvoke.length, 1, "API Gateway may invoke the authorizer");
  });
}
