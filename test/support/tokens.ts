import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import type { StackIdentity } from "../../local/stack.ts";

type SigningKey = Parameters<SignJWT["sign"]>[0];

/**
 * Tokens made here with jose, for the ways a token can be wrong. The stack's identity provider signs
 * with a key made for that stack (`identity.signingKeyFile`): signing the claims of a real token
 * again with it and another expiry makes an expired token the shop must refuse for that reason alone.
 */

/** The claims and key id of a real access token, re-signed with `key` after `change`. */
async function resign(token: string, key: SigningKey, change: (claims: JWTPayload) => JWTPayload): Promise<string> {
  const { kid } = decodeProtectedHeader(token);
  return new SignJWT(change(decodeJwt(token))).setProtectedHeader({ alg: "RS256", kid }).sign(key);
}

/** The private key the stack's cognito-local signs with, read from where the stack keeps it. */
async function stackKey(identity: StackIdentity): Promise<SigningKey> {
  if (!identity.signingKeyFile) throw new Error("only a stack's own cognito-local has a signing key on this machine");
  const { private: key } = JSON.parse(await readFile(identity.signingKeyFile, "utf8")) as { private: { jwk: JWK } };
  return (await importJWK(key.jwk, "RS256")) as SigningKey;
}

const now = () => Math.floor(Date.now() / 1000);

/** The same token, expired a minute ago (signed with the stack's own key). */
export async function expiredCopy(token: string, identity: StackIdentity): Promise<string> {
  return resign(token, await stackKey(identity), (claims) => ({ ...claims, iat: now() - 3_660, exp: now() - 60 }));
}

/** The same token, signed again with the stack's key and a fresh expiry: must be accepted (shows the copies are faithful). */
export async function faithfulCopy(token: string, identity: StackIdentity): Promise<string> {
  return resign(token, await stackKey(identity), (claims) => ({ ...claims, iat: now(), exp: now() + 600 }));
}

/** The same claims and key id, signed with a key of our own. */
export async function signedByAnotherKey(token: string): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  return resign(token, privateKey, (claims) => claims);
}

/**
 * The same claims, a fresh expiry, signed with the key published inside cognito-local's npm package,
 * which anyone can download: what someone who can reach the API could mint for any user id.
 */
export async function mintedWithPublishedKey(token: string): Promise<string> {
  const published = createRequire(import.meta.url)("cognito-local/lib/keys/cognitoLocal.private.json") as { jwk: JWK };
  return resign(token, (await importJWK(published.jwk, "RS256")) as SigningKey, (claims) => ({
    ...claims,
    iat: now(),
    exp: now() + 600,
  }));
}
