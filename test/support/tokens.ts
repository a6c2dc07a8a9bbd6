import { createRequire } from "node:module";
import { decodeJwt, decodeProtectedHeader, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";

type SigningKey = Parameters<SignJWT["sign"]>[0];

/**
 * Tokens made here with jose, for the ways a token can be wrong. cognito-local signs with one RSA key
 * of its own, shipped in its package: signing the claims of a real token again with that key and
 * another expiry makes an expired token the shop must refuse for that reason alone.
 */
const cognitoLocalKey = createRequire(import.meta.url)("cognito-local/lib/keys/cognitoLocal.private.json") as { jwk: JWK };

/** The claims and key id of a real access token, re-signed with `key` after `change`. */
async function resign(token: string, key: SigningKey, change: (claims: JWTPayload) => JWTPayload): Promise<string> {
  const { kid } = decodeProtectedHeader(token);
  return new SignJWT(change(decodeJwt(token))).setProtectedHeader({ alg: "RS256", kid }).sign(key);
}

/** The same token, expired a minute ago (signed with the identity provider's own key). */
export async function expiredCopy(token: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return resign(token, (await importJWK(cognitoLocalKey.jwk, "RS256")) as SigningKey, (claims) => ({ ...claims, iat: now - 3_660, exp: now - 60 }));
}

/** The same token, signed again with the identity provider's key and a fresh expiry: must be accepted (shows the copies are faithful). */
export async function faithfulCopy(token: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return resign(token, (await importJWK(cognitoLocalKey.jwk, "RS256")) as SigningKey, (claims) => ({ ...claims, iat: now, exp: now + 600 }));
}

/** The same claims and key id, signed with a key of our own. */
export async function signedByAnotherKey(token: string): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  return resign(token, privateKey, (claims) => claims);
}
