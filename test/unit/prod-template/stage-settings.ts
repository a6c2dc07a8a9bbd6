/** The stage settings: the local defaults, the stage file checked before anything deploys, the manifest's wiring. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { it } from "node:test";
import { awsStageFile } from "../../../deploy/aws-stage-file.ts";
import { functionRoles } from "../../../deploy/roles.ts";
import { localParams, stageParams } from "../../../deploy/stage-settings.ts";
import { FUNCTIONS as MANIFEST, type FunctionSpec } from "../../../shared/contract/manifest.ts";
import { CLUSTER, LEAKY_SHELL, ROOT, SAMPLE, serviceCopy, sls } from "./service.ts";

export function stageSettingsTests(): void {
  it("keeps the local stage at zero configuration, with today's defaults", () => {
    const local = localParams({});
    assert.equal(local.ordersDatabaseUrl, "postgres://postgres@127.0.0.1:55432/orders");
    assert.equal(local.paymentsDatabaseUrl, "postgres://postgres@127.0.0.1:55433/payments");
    assert.equal(local.websocketEndpoint, "http://127.0.0.1:3001");
    assert.equal(local.vpc, null);
    assert.equal(local.kafkaAuth, "");
    assert.equal(
      localParams({ WEBSOCKET_ENDPOINT: "http://127.0.0.1:4001" }).websocketEndpoint,
      "http://127.0.0.1:4001",
    );
    assert.deepEqual(stageParams({ serviceDir: ROOT, stage: "dev", region: "us-east-1", env: {} }), local);
  });

  it("accepts the sample stage file as it is", () => {
    const parsed = awsStageFile.safeParse(SAMPLE);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  });

  it("names the missing file, or each missing or malformed setting, instead of deploying localhost", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gozon-stage-"));
    try {
      assert.throws(
        () => stageParams({ serviceDir: dir, stage: "staging", region: "us-east-1", env: {} }),
        /no settings file .*stages\/staging\.yml/,
      );
      await mkdir(path.join(dir, "stages"));
      await writeFile(
        path.join(dir, "stages/staging.yml"),
        "kafkaAuth: scram\nsubnetIds: []\nordersDatabaseUrl: postgres://orders_app@db.example.com:5432/orders\n",
      );
      assert.throws(
        () => stageParams({ serviceDir: dir, stage: "staging", region: "us-east-1", env: {} }),
        (error: Error) => {
          for (const named of [
            "mskClusterArn",
            "kafkaAuth",
            "subnetIds",
            "securityGroupIds",
            "ordersDatabasePasswordSecret",
            "paymentsDatabaseUrl",
            "paymentsDatabasePasswordSecret",
          ])
            assert.match(error.message, new RegExp(`- ${named}\\b`));
          assert.doesNotMatch(error.message, /- ordersDatabaseUrl\b/);
          return true;
        },
      );
      await writeFile(
        path.join(dir, "stages/staging.yml"),
        await readFile(path.join(ROOT, "stages/prod.sample.yml"), "utf8"),
      );
      assert.throws(
        () => stageParams({ serviceDir: dir, stage: "staging", region: "eu-west-1", env: {} }),
        /mskClusterArn is in us-east-1, the stage deploys to eu-west-1/,
      );
      const sample = await readFile(path.join(ROOT, "stages/prod.sample.yml"), "utf8");
      const staging = async (text: string) => {
        await writeFile(path.join(dir, "stages/staging.yml"), text);
        return () => stageParams({ serviceDir: dir, stage: "staging", region: "us-east-1", env: {} });
      };
      assert.throws(
        await staging(sample.replace("postgres://orders_app@", "postgres://orders_app:hunter2@")),
        /- ordersDatabaseUrl \([^)]*\): holds a password: remove it/,
      );
      assert.throws(
        await staging(sample.replace(/secret:gozon\/prod\/orders-db-Ab12Cd/, "secret:gozon/prod/orders-db")),
        /- ordersDatabasePasswordSecret \([^)]*\): not a secret's full ARN/,
      );
      assert.throws(
        await staging(sample.replace("secretsmanager:us-east-1", "secretsmanager:eu-west-1")),
        /ordersDatabasePasswordSecret is in eu-west-1, the stage deploys to us-east-1/,
      );
      assert.throws(
        await staging(`${sample}\nordersDatabaseSecret: gozon/prod/orders-db\n`),
        /ordersDatabaseSecret is replaced by ordersDatabaseUrl \(without a password\) and ordersDatabasePasswordSecret/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stops `sls package` with the setting's name when the stage file lacks it", { timeout: 120_000 }, async () => {
    const dir = await serviceCopy();
    try {
      const sample = await readFile(path.join(dir, "stages/prod.sample.yml"), "utf8");
      await writeFile(path.join(dir, "stages/prod.yml"), sample.replace(/^mskClusterArn:.*$/m, ""));
      const result = await sls(dir, ["package", "--stage", "prod", "--package", path.join(dir, "out")], LEAKY_SHELL);
      assert.equal(result.ok, false);
      assert.match(result.output, /stages\/prod\.yml \(stage "prod"\) is not a complete stage configuration/);
      assert.match(result.output, /- mskClusterArn \(the MSK cluster's ARN[^)]*\): missing/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a manifest whose wiring cannot work: a writer on two databases, an outbox no function relays, two readers of a topic sharing an inbox", () => {
    const params = {
      mskClusterArn: CLUSTER,
      kafkaAuth: "iam" as const,
      kafkaBrokers: "",
      vpc: null,
      ordersDatabasePasswordSecret: "",
      paymentsDatabasePasswordSecret: "",
      databaseSecretKeys: {},
    };
    const roles = (functions: Record<string, FunctionSpec>) => () =>
      functionRoles({ service: "s", stage: "p", params, functions });
    const { paymentsOutboxRelay: _relay, ...withoutRelay } = MANIFEST;
    assert.throws(roles(withoutRelay), /deposit writes the payments outbox, which no function relays/);
    assert.throws(
      roles({ ...MANIFEST, deposit: { ...MANIFEST.deposit, databases: ["orders", "payments"] } }),
      /deposit writes an outbox or reads a topic, so it names exactly one database/,
    );
    assert.throws(
      roles({
        ...MANIFEST,
        auditOrders: { ...MANIFEST.onOrderCreated, trigger: { topic: "orders.created", group: "g" } },
      }),
      /orders\.created: onOrderCreated and auditOrders would share the payments inbox/,
    );
    assert.doesNotThrow(roles(MANIFEST));
  });
}
