import { JwtVerifier } from "aws-jwt-verify";
import { validateCognitoJwtFields } from "aws-jwt-verify/cognito-verifier";
import { FetchError, JwtBaseError, JwtExpiredError } from "aws-jwt-verify/error";
import type { Fetcher } from "aws-jwt-verify/https";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import { config, type AuthConfig } from "../config.ts";
import { DependencyUnavailable, Unauthorized } from "../errors.ts";

/** Who is calling, as the access token says: the user pool's `sub` of the signed-in user. */
export interface Caller {
  userId: string;
}

const JWKS_TIMEOUT_MS = 3_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The pool's signing keys, fetched with the runtime's own fetch. aws-jwt-verify's default fetcher
 * speaks only https; cognito-local serves its keys on plain http. Everything else (key choice by
 * `kid`, caching, the penalty box for unknown keys, every check) stays the library's.
 */
const jwksFetcher: Fetcher = {
  async fetch(uri) {
    const response = await fetch(uri, { signal: AbortSignal.timeout(JWKS_TIMEOUT_MS) }).catch((error: unknown) => {
      // Refused, reset or timed out: the pool's keys are out of reach, which is no fault of the token.
      throw new FetchError(uri, error instanceof Error ? error.message : String(error));
    });
    if (!response.ok) throw new FetchError(uri, `the user pool's keys answered ${response.status}`);
    return response.arrayBuffer();
  },
};

type Verifier = ReturnType<typeof verifierFor>;
let cached: { key: string; verifier: Verifier } | undefined;

function verifierFor(auth: AuthConfig & { issuer: string; clientId: string }) {
  return JwtVerifier.create(
    {
      issuer: auth.issuer,
      jwksUri: `${auth.issuer}/.well-known/jwks.json`,
      // Cognito access tokens carry no `aud`: the app client is `client_id`, checked below with
      // the library's own Cognito rules, together with token_use.
      audience: null,
      customJwtCheck: ({ payload }) =>
        validateCognitoJwtFields(payload, { tokenUse: "access", clientId: auth.clientId, groups: null }),
    },
    { jwksCache: new SimpleJwksCache({ fetcher: jwksFetcher }) },
  );
}

function verifier(): Verifier {
  const auth = config().auth;
  if (!auth.issuer || !auth.clientId) {
    throw new Error("AUTH is on but COGNITO_USER_POOL_ID (or COGNITO_ISSUER) and COGNITO_CLIENT_ID are not set");
  }
  const key = `${auth.issuer} ${auth.clientId}`;
  if (cached?.key !== key)
    cached = { key, verifier: verifierFor({ ...auth, issuer: auth.issuer, clientId: auth.clientId }) };
  return cached.verifier;
}

/**
 * Verifies a Cognito access token with aws-jwt-verify: signature (RS256, the pool's keys), issuer
 * (this user pool), expiry, token_use "access" and client_id (this app client). The same check runs
 * locally (against cognito-local) and on AWS. Anything wrong with the token is a 401.
 */
export async function verifyAccessToken(token: string): Promise<Caller> {
  let payload: { sub?: unknown };
  try {
    payload = await verifier().verify(token);
  } catch (error) {
    if (error instanceof FetchError) {
      throw new DependencyUnavailable("the sign-in service", { cause: error });
    }
    if (!(error instanceof JwtBaseError)) throw error;
    if (error instanceof JwtExpiredError)
      throw new Unauthorized("The access token has expired; refresh it or sign in again", "Authorization");
    throw new Unauthorized(`The access token is not valid for this shop: ${error.message}`, "Authorization");
  }
  const sub = typeof payload.sub === "string" ? payload.sub.toLowerCase() : "";
  if (!UUID.test(sub))
    throw new Unauthorized("The access token names no user (its sub is not a UUID)", "Authorization");
  return { userId: sub };
}

/** The token of an `Authorization: Bearer <token>` header value. */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header ?? "");
  if (!match) {
    throw new Unauthorized(
      header
        ? "The Authorization header must be `Bearer <access token>`"
        : "Sign in first: this needs an access token (Authorization: Bearer <token>)",
      "Authorization",
    );
  }
  return match[1]!;
}
