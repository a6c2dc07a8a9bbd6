import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ensureSigningKey, signingKeyFile } from "../../local/cognito/identity-provider.ts";
import { assertServesStackKey } from "../../local/cognito/served-key.ts";
import { freePort } from "../support/ports.ts";

const SERVE = fileURLToPath(new URL("../../local/cognito/serve.cjs", import.meta.url));

/** A stand-in for cognito-local's JWKS route: it serves whatever key it is given, for any pool. */
async function standInJwks(jwk: object): Promise<{ issuer: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (!req.url?.endsWith("/.well-known/jwks.json")) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    issuer: `http://127.0.0.1:${port}/us-east-1_standin`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("the stack checks that cognito-local publishes the stack's own signing key", () => {
  let dir: string;
  let keyFile: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "served-key-"));
    keyFile = signingKeyFile(dir);
    await ensureSigningKey(keyFile);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("refuses to start, naming the cause, when the JWKS holds another key under the same kid", async () => {
    const foreign = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
    const jwks = await standInJwks({ ...foreign, kid: "CognitoLocal", alg: "RS256", use: "sig" });
    try {
      await assert.rejects(
        assertServesStackKey(jwks.issuer, keyFile),
        /^Error: cognito-local \d+\.\d+\.\d+ serves a signing key that is not the stack's own: .*docs\/local\.md$/,
      );
    } finally {
      await jwks.close();
    }
  });

  it("passes when the JWKS holds the stack's key", async () => {
    const { public: stack } = JSON.parse(await readFile(keyFile, "utf8")) as { public: { jwk: object } };
    const jwks = await standInJwks(stack.jwk);
    try {
      await assertServesStackKey(jwks.issuer, keyFile);
    } finally {
      await jwks.close();
    }
  });

  describe("the installed cognito-local, started as the stack starts it (serve.cjs)", () => {
    let child: ChildProcess;
    let url: string;

    before(async () => {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      child = spawn(process.execPath, [SERVE], {
        cwd: dir,
        env: { ...process.env, HOST: "127.0.0.1", PORT: String(port), SIGNING_KEY_FILE: keyFile },
        stdio: "ignore",
      });
      for (let waited = 0; ; waited += 100) {
        if (
          await fetch(`${url}/health`).then(
            (answer) => answer.ok,
            () => false,
          )
        )
          break;
        assert.ok(waited < 20_000 && child.exitCode === null, "cognito-local did not serve within 20 s");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    after(() => void child.kill());

    it("serves the stack's key in its JWKS", async () => {
      await assertServesStackKey(`${url}/us-east-1_any`, keyFile);
    });
  });
});
