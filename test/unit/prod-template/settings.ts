/** What each function is handed from the stage file: limits, network, endpoints, databases and their secrets. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { databasesOf, FUNCTIONS } from "./expected.ts";
import { CLUSTER, SAMPLE, STAGE } from "./service.ts";
import { readerOf, type PackagedTemplate, type PolicyStatement } from "./template.ts";

export function settingsTests(t: PackagedTemplate): void {
  const { fn, env, statements, sid } = readerOf(t);

  it("throttles the HTTP API and reserves concurrency so no database is given more connections than the stage allows", () => {
    const { resources } = t;
    const stageFile = SAMPLE as unknown as {
      databaseConnections: number;
      httpRateLimit: number;
      httpBurstLimit: number;
      dbPoolMax: number;
    };
    const stage = resources.HttpApiStage!;
    assert.deepEqual(stage.Properties.DefaultRouteSettings, {
      ThrottlingRateLimit: stageFile.httpRateLimit,
      ThrottlingBurstLimit: stageFile.httpBurstLimit,
    });
    for (const variable of ["ORDERS_DATABASE_URL", "PAYMENTS_DATABASE_URL"]) {
      const users = FUNCTIONS.filter((key) => variable in env(key));
      assert.ok(users.length > 0, variable);
      let connections = 0;
      for (const key of users) {
        const reserved = fn(key).Properties.ReservedConcurrentExecutions;
        assert.ok(
          typeof reserved === "number" && reserved >= 1,
          `${key} has a reserved concurrency (${String(reserved)})`,
        );
        connections += reserved * stageFile.dbPoolMax;
      }
      assert.ok(
        connections <= stageFile.databaseConnections,
        `${variable}: ${connections} connections at most, the stage allows ${stageFile.databaseConnections}`,
      );
    }
  });

  it("puts every function in the stage's VPC", () => {
    for (const key of FUNCTIONS) {
      assert.deepEqual(
        fn(key).Properties.VpcConfig,
        { SecurityGroupIds: SAMPLE.securityGroupIds, SubnetIds: SAMPLE.subnetIds },
        key,
      );
      const network = sid(key, "NetworkInterfaces").Action;
      for (const action of [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
      ])
        assert.ok(network.includes(action), `${key} ${action}`);
    }
  });

  it("builds WEBSOCKET_ENDPOINT from the WebSocket API's id, and takes every setting from the stage file", () => {
    const { resources } = t;
    for (const key of FUNCTIONS) {
      const vars = env(key);
      assert.deepEqual(vars.WEBSOCKET_ENDPOINT, {
        "Fn::Join": [
          "",
          [
            "https://",
            { Ref: "WebsocketsApi" },
            ".execute-api.",
            { Ref: "AWS::Region" },
            ".",
            { Ref: "AWS::URLSuffix" },
            `/${STAGE}`,
          ],
        ],
      });
      assert.equal(vars.KAFKA_AUTH, "iam");
      assert.equal(vars.KAFKA_BROKERS, "");
      assert.equal(vars.MSK_CLUSTER_ARN, CLUSTER);
      assert.equal(vars.LAMBDA_ENDPOINT, "");
      assert.equal(vars.DB_POOL_MAX, "2");
      assert.equal(vars.OTEL_TRACES_EXPORTER, "otlp", "spans go over OTLP");
      assert.equal(vars.OTEL_EXPORTER_OTLP_ENDPOINT, SAMPLE.tracesEndpoint);
      assert.equal(vars.ORDERS_RELAY_FUNCTION, `gozon-shop-${STAGE}-ordersOutboxRelay`);
    }
    assert.ok(resources.WebsocketsApi, "the API the endpoint names exists");
  });

  it("hands each function only its own database's URL (no password) and the ARN of the secret holding it", () => {
    const given = {
      ORDERS_DATABASE_URL: [SAMPLE.ordersDatabaseUrl, SAMPLE.ordersDatabasePasswordSecret],
      PAYMENTS_DATABASE_URL: [SAMPLE.paymentsDatabaseUrl, SAMPLE.paymentsDatabasePasswordSecret],
    } as const;
    for (const key of FUNCTIONS) {
      const vars = env(key);
      const present = (["ORDERS_DATABASE_URL", "PAYMENTS_DATABASE_URL"] as const).filter((name) => name in vars);
      assert.deepEqual(present, databasesOf(key), `databases of ${key}`);
      const secrets = Object.keys(vars).filter((name) => name.endsWith("_DATABASE_PASSWORD_SECRET_ARN"));
      assert.deepEqual(
        secrets,
        present.map((name) => name.replace(/_URL$/, "_PASSWORD_SECRET_ARN")),
        key,
      );
      for (const name of present) {
        assert.equal(vars[name], given[name][0]);
        assert.equal(vars[name.replace(/_URL$/, "_PASSWORD_SECRET_ARN")], given[name][1]);
      }
    }
  });

  it("lets each role read only its own database's secret, and decrypt it only through Secrets Manager", () => {
    const secretOf = {
      ORDERS_DATABASE_URL: SAMPLE.ordersDatabasePasswordSecret,
      PAYMENTS_DATABASE_URL: SAMPLE.paymentsDatabasePasswordSecret,
    };
    for (const key of FUNCTIONS) {
      const reads = statements(key).filter((s) => s.Action.some((a) => a.startsWith("secretsmanager:")));
      const decrypts = statements(key).filter((s) => s.Action.some((a) => a.startsWith("kms:")));
      if (databasesOf(key).length === 0) {
        assert.deepEqual([...reads, ...decrypts], [], `${key} reads no secret`);
        continue;
      }
      assert.deepEqual(reads, [sid(key, "ReadDatabasePassword")], `${key}: one statement reads secrets`);
      assert.deepEqual(sid(key, "ReadDatabasePassword").Action, ["secretsmanager:GetSecretValue"]);
      assert.deepEqual(
        sid(key, "ReadDatabasePassword").Resource,
        databasesOf(key).map((name) => secretOf[name]),
        `${key} reads its own database's secret, by its full ARN`,
      );
      // Only the payments secret names a customer managed key in the sample.
      if (!databasesOf(key).includes("PAYMENTS_DATABASE_URL")) {
        assert.deepEqual(decrypts, [], `${key} decrypts nothing`);
        continue;
      }
      const decrypt = sid(key, "DecryptDatabasePassword") as PolicyStatement & { Condition: unknown };
      assert.deepEqual(decrypts, [decrypt]);
      assert.deepEqual(decrypt.Action, ["kms:Decrypt"]);
      assert.deepEqual(decrypt.Resource, [SAMPLE.paymentsDatabaseSecretKmsKey]);
      assert.deepEqual(decrypt.Condition, {
        StringEquals: { "kms:ViaService": { "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com" } },
      });
    }
  });
}
