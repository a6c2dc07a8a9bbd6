import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

interface PublicJwk {
  kid?: string;
  n?: string;
}

const { version: cognitoLocalVersion } = createRequire(import.meta.url)("cognito-local/package.json") as {
  version: string;
};

/**
 * Resolves once the JWKS at `<issuer>/.well-known/jwks.json` holds the public half of the stack's key
 * (`keyFile`, same kid and modulus) and nothing else. cognito-local offers no setting for its signing
 * key, so serve.cjs puts the stack's key where the package loads its own from; a release that moves that
 * file would otherwise sign with the key published in its package, and every sign-in would fail with
 * nothing to say why.
 */
export async function assertServesStackKey(issuer: string, keyFile: string): Promise<void> {
  const { public: stack } = JSON.parse(await readFile(keyFile, "utf8")) as { public: { jwk: PublicJwk } };
  const url = `${issuer}/.well-known/jwks.json`;
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`cognito-local ${cognitoLocalVersion} answers ${response.status} for ${url}`);
  const { keys } = (await response.json()) as { keys?: PublicJwk[] };
  const served = keys ?? [];
  if (served.length !== 1 || served[0]!.kid !== stack.jwk.kid || served[0]!.n !== stack.jwk.n) {
    throw new Error(
      `cognito-local ${cognitoLocalVersion} serves a signing key that is not the stack's own: it no longer ` +
        `loads its key from where local/cognito/serve.cjs puts it; see "The sign-in key is the stack's own" ` +
        `in docs/local.md`,
    );
  }
}
