import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DatabasePasswordUnavailable, passwordFromSecret } from "../../shared/db/secret-password.ts";
import { isDatabaseUnavailable } from "../../shared/db/unavailable.ts";
import { TimedOut } from "../../shared/timeout.ts";
import { SecretsManagerStandIn } from "../support/secrets-manager-stand-in.ts";

const SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-0a1b2c3d-AbCdEf";
const TTL_MS = 60_000;
const TIMEOUT_MS = 300;

describe("the database password from Secrets Manager (against a stand-in of its API)", () => {
  const standIn = new SecretsManagerStandIn();
  let client: SecretsManagerClient;
  let clock = 0;
  const source = () => passwordFromSecret(SECRET, { client, ttlMs: TTL_MS, timeoutMs: TIMEOUT_MS, now: () => clock });

  before(async () => {
    client = new SecretsManagerClient({
      region: "us-east-1",
      endpoint: await standIn.start(),
      credentials: { accessKeyId: "x", secretAccessKey: "x" },
      maxAttempts: 1,
    });
  });
  after(async () => {
    client.destroy();
    await standIn.stop();
  });
  beforeEach(() => {
    standIn.password = "first-password";
    standIn.hang = false;
    standIn.reads = [];
    clock = 0;
  });

  it("reads the secret once, and serves the connections opened within the TTL from that read", async () => {
    const passwords = source();
    const together = await Promise.all([passwords.password(), passwords.password(), passwords.password()]);
    assert.deepEqual(together, ["first-password", "first-password", "first-password"]);
    clock += TTL_MS - 1;
    assert.equal(await passwords.password(), "first-password");
    assert.deepEqual(standIn.reads, [SECRET], "one read, of this secret's ARN");
  });

  it("reads it again once the TTL has passed", async () => {
    const passwords = source();
    assert.equal(await passwords.password(), "first-password");
    standIn.password = "rotated-password";
    clock += TTL_MS;
    assert.equal(await passwords.password(), "rotated-password");
    assert.equal(standIn.reads.length, 2);
  });

  it("reads it again at once after the database refused it (a rotation), well within the TTL", async () => {
    const passwords = source();
    assert.equal(await passwords.password(), "first-password");
    standIn.password = "rotated-password";
    clock += 1_000;
    assert.equal(await passwords.password(), "first-password", "the cache still serves before any refusal");
    passwords.refused();
    assert.equal(await passwords.password(), "rotated-password");
    assert.equal(standIn.reads.length, 2);
  });

  it("gives up on a Secrets Manager that does not answer within the timeout, and keeps no failed read", async () => {
    const passwords = source();
    standIn.hang = true;
    const started = performance.now();
    const error = await passwords.password().then(
      () => assert.fail("a hanging read must not succeed"),
      (e: unknown) => e,
    );
    const waited = performance.now() - started;
    assert.ok(error instanceof DatabasePasswordUnavailable, String(error));
    assert.ok(error.cause instanceof TimedOut, String(error.cause));
    assert.ok(waited >= TIMEOUT_MS - 20 && waited < TIMEOUT_MS + 1_000, `gave up after ${Math.round(waited)} ms`);
    assert.ok(isDatabaseUnavailable(error), "answered 503 and retried, never blamed on a record");
    standIn.hang = false;
    assert.equal(await passwords.password(), "first-password", "the next connection reads again");
    assert.equal(standIn.reads.length, 2);
  });

  it("names the secret when its JSON holds no password", async () => {
    standIn.password = "";
    await assert.rejects(source().password(), (error: Error) => {
      assert.ok(error instanceof DatabasePasswordUnavailable);
      assert.match(String((error.cause as Error).message), /rds!db-0a1b2c3d-AbCdEf holds no "password"/);
      return true;
    });
  });
});
