import { generateKeyPairSync } from "node:crypto";
import { access, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import type { Part } from "../core/supervisor.ts";

/** Where a user pool's tokens come from and what they are for: what the functions and the page need. */
export interface UserPool {
  /** The Cognito API: what the page and the SDK send SignUp, InitiateAuth, … to. */
  endpoint: string;
  region: string;
  userPoolId: string;
  clientId: string;
  /** The tokens' `iss`; its /.well-known/jwks.json holds the signing keys. */
  issuer: string;
}

export interface IdentityProviderOptions {
  dir: string;
  port: number;
  /** A confirmation code cognito-local would have e-mailed (it prints them instead). */
  onConfirmationCode?: (email: string, code: string) => void;
}

/** cognito-local's server with a logger that does not hold lines back (see serve.cjs). */
const SERVE = fileURLToPath(new URL("./serve.cjs", import.meta.url));
/** Any credentials do: cognito-local checks none, but the SDK signs every request. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export const identityProviderUrl = (port: number): string => `http://127.0.0.1:${port}`;

/** The stack's signing key pair (JWK and PEM of each half), where the identity provider of `dir` keeps it. */
export const signingKeyFile = (dir: string): string => path.join(dir, "signing-key.json");

/**
 * A new RSA key pair for the stack's tokens, written once per stack (a restart keeps it, as it keeps
 * the users). cognito-local names its key "CognitoLocal" in every token header; the published JWKS
 * says the same of this one, so a token signed with the key inside cognito-local's package fails
 * the signature check.
 */
export async function ensureSigningKey(file: string): Promise<void> {
  if (
    await access(file).then(
      () => true,
      () => false,
    )
  )
    return;
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const header = { kid: "CognitoLocal", alg: "RS256", use: "sig" };
  const key = {
    private: {
      jwk: { ...privateKey.export({ format: "jwk" }), ...header },
      pem: privateKey.export({ type: "pkcs1", format: "pem" }),
    },
    public: {
      jwk: { ...publicKey.export({ format: "jwk" }), ...header },
      pem: publicKey.export({ type: "pkcs1", format: "pem" }),
    },
  };
  await writeFile(file, JSON.stringify(key, null, 2), { mode: 0o600 });
}

/**
 * cognito-local (the npm package), a Cognito user pool API on this machine: SignUp, ConfirmSignUp,
 * InitiateAuth (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH), RevokeToken and the admin calls, with
 * RS256 tokens and a JWKS on plain http. Its data lives in `dir`; a restart keeps the pools and
 * users, the first start of a run begins empty. The codes it would e-mail it logs instead, in a
 * box, which is read here.
 */
export function identityProviderPart(options: IdentityProviderOptions): Part {
  const url = identityProviderUrl(options.port);
  const logFile = path.join(options.dir, "cognito-local.log");
  return {
    name: "cognito",
    label: "Cognito (cognito-local)",
    marker: path.join(options.dir, ".cognito"),
    startTimeoutMs: 30_000,
    stopGraceMs: 3_000,
    async launch(attempt) {
      if (attempt.fresh) {
        await rm(options.dir, { recursive: true, force: true });
        await mkdir(path.join(options.dir, ".cognito"), { recursive: true });
        // Tokens name the issuer the functions reach, not cognito-local's default of localhost:9229.
        await writeFile(
          path.join(options.dir, ".cognito", "config.json"),
          JSON.stringify(
            { TokenConfig: { IssuerDomain: url }, ServerConfig: { hostname: "127.0.0.1", port: options.port } },
            null,
            2,
          ),
        );
      }
      await ensureSigningKey(signingKeyFile(options.dir));
      const child = attempt.spawn(process.execPath, [SERVE], {
        cwd: options.dir, // cognito-local keeps .cognito/ in its working directory
        env: {
          ...process.env,
          HOST: "127.0.0.1",
          PORT: String(options.port),
          SIGNING_KEY_FILE: signingKeyFile(options.dir),
          AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
        },
        logFile,
        onLine: (line) => {
          const delivery = confirmationCodeIn(line);
          if (delivery) options.onConfirmationCode?.(delivery.email, delivery.code);
        },
      });
      await attempt.wait(async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok, {
        what: `cognito-local to answer on ${url}`,
        exited: child,
        intervalMs: 100,
      });
      return child;
    },
  };
}

/** The destination and code of a "Confirmation Code Delivery" log line, if it is one. */
function confirmationCodeIn(line: string): { email: string; code: string } | undefined {
  let message: unknown;
  try {
    message = (JSON.parse(line) as { msg?: unknown }).msg;
  } catch {
    return undefined;
  }
  if (typeof message !== "string" || !message.includes("Confirmation Code Delivery")) return undefined;
  const text = stripVTControlCharacters(message);
  const email = /Destination:\s+(\S+)/.exec(text)?.[1];
  const code = /Code:\s+(\S+)/.exec(text)?.[1];
  return email && code ? { email, code } : undefined;
}

/** The codes cognito-local would have e-mailed (onConfirmationCode), by address. */
export class ConfirmationCodes {
  private readonly codes = new Map<string, string>();

  delivered(email: string, code: string): void {
    this.codes.set(email.toLowerCase(), code);
  }

  /** The code for `email`, waited for briefly: cognito-local logs it after it answers SignUp. */
  async of(email: string): Promise<string> {
    const key = email.toLowerCase();
    for (let waited = 0; waited < 5_000; waited += 50) {
      const code = this.codes.get(key);
      if (code) return code;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no confirmation code for ${email}: only cognito-local prints them, after SignUp`);
  }
}

/**
 * The shop's user pool and the page's app client, as serverless.yml declares them for AWS: e-mail
 * addresses as user names, e-mailed confirmation codes, USER_PASSWORD_AUTH and refresh tokens, no
 * client secret (a browser cannot keep one), access tokens valid for an hour.
 */
export async function createUserPool(endpoint: string, name = "gozon-shop"): Promise<UserPool> {
  const cognito = new CognitoIdentityProviderClient({ endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
  try {
    const { UserPool: pool } = await cognito.send(
      new CreateUserPoolCommand({
        PoolName: name,
        UsernameAttributes: ["email"],
        AutoVerifiedAttributes: ["email"],
        Policies: {
          PasswordPolicy: {
            MinimumLength: 8,
            RequireLowercase: false,
            RequireUppercase: false,
            RequireNumbers: false,
            RequireSymbols: false,
          },
        },
      }),
    );
    const { UserPoolClient: client } = await cognito.send(
      new CreateUserPoolClientCommand({
        UserPoolId: pool!.Id!,
        ClientName: `${name}-page`,
        GenerateSecret: false,
        ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AccessTokenValidity: 60,
        IdTokenValidity: 60,
        RefreshTokenValidity: 30,
        TokenValidityUnits: { AccessToken: "minutes", IdToken: "minutes", RefreshToken: "days" },
        EnableTokenRevocation: true,
      }),
    );
    const userPoolId = pool!.Id!;
    return {
      endpoint,
      region: "us-east-1",
      userPoolId,
      clientId: client!.ClientId!,
      issuer: `${endpoint}/${userPoolId}`,
    };
  } finally {
    cognito.destroy();
  }
}

/** The pool COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID name: a real one, on AWS. */
export function realUserPool(env: NodeJS.ProcessEnv): UserPool {
  const userPoolId = env.COGNITO_USER_POOL_ID!;
  const region = userPoolId.split("_")[0]!;
  return {
    endpoint: `https://cognito-idp.${region}.amazonaws.com`,
    region,
    userPoolId,
    clientId: env.COGNITO_CLIENT_ID!,
    issuer: env.COGNITO_ISSUER ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`,
  };
}
