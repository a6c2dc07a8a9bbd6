import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { config } from "../../shared/config.ts";
import { db } from "../../shared/db/pool.ts";
import { DatabasePasswordUnavailable } from "../../shared/db/secret-password.ts";
import { isDatabaseUnavailable } from "../../shared/db/unavailable.ts";
import { postgresUrl } from "../../local/postgres/instance.ts";
import { startTestDatabases, type TestDatabases } from "../support/database.ts";
import { SecretsManagerStandIn } from "../support/secrets-manager-stand-in.ts";

const PORT = 17535;
const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-orders-AbCdEf";

/**
 * An AWS stage's connection, on a real PostgreSQL: the URL names the user and no password, the
 * password comes from its secret (a stand-in of Secrets Manager's API), and a rotation reaches the
 * pool with no restart.
 */
describe("a pool whose password lives in Secrets Manager (a stand-in of its API)", () => {
  let databases: TestDatabases;
  const secrets = new SecretsManagerStandIn();
  let admin: pg.Client;

  before(async () => {
    databases = await startTestDatabases("database-password", PORT);
    admin = new pg.Client({ connectionString: postgresUrl(PORT, "orders") });
    admin.on("error", () => undefined); // the server stops at teardown
    await admin.connect();
    await admin.query("CREATE ROLE orders_app LOGIN PASSWORD 'first-password'");
    Object.assign(process.env, {
      ORDERS_DATABASE_URL: `postgres://orders_app@127.0.0.1:${PORT}/orders`,
      ORDERS_DATABASE_PASSWORD_SECRET_ARN: SECRET,
      // The SDK's own variable for a service's endpoint: the functions' client reaches the stand-in.
      AWS_ENDPOINT_URL_SECRETS_MANAGER: await secrets.start(),
      AWS_ACCESS_KEY_ID: "x",
      AWS_SECRET_ACCESS_KEY: "x",
      AWS_REGION: "us-east-1",
    });
  });
  after(async () => {
    await admin?.end();
    await databases?.stop();
    await secrets.stop();
  });

  const currentUser = async () =>
    (await db("orders").query<{ who: string }>("SELECT current_user AS who")).rows[0]!.who;

  it("connects as the URL's user with the secret's password, read once", async () => {
    assert.equal(config().databasePasswordSecrets.orders, SECRET, "the configuration was read after the test set it");
    assert.equal(new URL(config().ordersDatabaseUrl!).password, "");
    assert.equal(await currentUser(), "orders_app");
    assert.equal(await currentUser(), "orders_app");
    assert.deepEqual(secrets.reads, [SECRET]);
  });

  it("after a rotation, refuses one connection as unavailable, reads the secret again and connects", async () => {
    await admin.query("ALTER ROLE orders_app PASSWORD 'rotated-password'");
    secrets.password = "rotated-password";
    // Open connections stay logged in; drop them so the next query needs a new one.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'orders_app'");
    const pool = db("orders");
    for (let i = 0; pool.totalCount > 0; i += 1) {
      assert.ok(i < 100, "the pool lets go of its terminated connections");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await assert.rejects(currentUser(), (error: Error) => {
      assert.ok(error instanceof DatabasePasswordUnavailable, String(error));
      assert.equal((error.cause as { code?: string }).code, "28P01");
      assert.ok(isDatabaseUnavailable(error), "a 503 to retry, never a record's fault");
      return true;
    });
    assert.equal(await currentUser(), "orders_app");
    assert.equal(secrets.reads.length, 2, "read again at once, long before the TTL");
  });
});
