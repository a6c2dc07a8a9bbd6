import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import pg from "pg";
import { awsClientOptions } from "../aws-clients.ts";
import { config } from "../config.ts";
import { withTimeout } from "../timeout.ts";

/**
 * A database's password, read at run time from a Secrets Manager secret whose SecretString is the
 * JSON RDS writes for a managed master user or an RDS Proxy: `{"username": …, "password": …}`. On an
 * AWS stage the function's environment holds the URL without a password and the secret's ARN, so
 * nothing that can read the function's configuration sees the password.
 *
 * - A container reads the secret once per `ttlMs`; the connections opened meanwhile use that read.
 *   Connections opened at the same time share one read in flight.
 * - When the database refuses the password (SQLSTATE 28P01: it was rotated), `refused()` drops it
 *   and the next connection reads the secret again at once: a rotation reaches running containers
 *   without a redeploy, at the cost of one refused connection per container.
 * - Every read is bounded by `timeoutMs`; a read that fails or hangs fails the connection as a
 *   database that cannot be reached would (DatabasePasswordUnavailable: 503, retried).
 */
export interface PasswordSource {
  password(): Promise<string>;
  refused(): void;
}

/** The password could not be read, or the database refused the one read: transient (see unavailable.ts). */
export class DatabasePasswordUnavailable extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "DatabasePasswordUnavailable";
  }
}

export interface SecretReadOptions {
  client: Pick<SecretsManagerClient, "send">;
  ttlMs: number;
  timeoutMs: number;
  now?: () => number;
}

async function readPassword(secretArn: string, options: SecretReadOptions): Promise<string> {
  const answer = await withTimeout(
    options.client.send(new GetSecretValueCommand({ SecretId: secretArn })),
    options.timeoutMs,
    `GetSecretValue ${secretArn}`,
  );
  const password = (JSON.parse(answer.SecretString ?? "{}") as { password?: unknown }).password;
  if (typeof password !== "string" || password === "")
    throw new Error(`secret ${secretArn} holds no "password" in its JSON SecretString`);
  return password;
}

export function passwordFromSecret(secretArn: string, options: SecretReadOptions): PasswordSource {
  const now = options.now ?? Date.now;
  let cached: { password: Promise<string>; readAt: number } | undefined;
  return {
    password() {
      if (!cached || now() - cached.readAt >= options.ttlMs) {
        const read = readPassword(secretArn, options).catch((error: unknown) => {
          if (cached?.password === read) cached = undefined; // a failed read is not kept
          throw new DatabasePasswordUnavailable(`cannot read the database password from ${secretArn}`, error);
        });
        cached = { password: read, readAt: now() };
      }
      return cached.password;
    },
    refused() {
      cached = undefined;
    },
  };
}

const AUTH_FAILED = "28P01";

/**
 * A pg Client that tells `source` when the database refuses its password, and fails the connection
 * as DatabasePasswordUnavailable: the pool's next connection reads the secret again.
 */
export function clientTellingRefusals(source: PasswordSource, secretArn: string): typeof pg.Client {
  const noticed = (error: Error): Error => {
    if ((error as { code?: unknown }).code !== AUTH_FAILED) return error;
    source.refused();
    return new DatabasePasswordUnavailable(
      `the database refused the password from ${secretArn}; reading it again`,
      error,
    );
  };
  return class extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error) => void): void;
    override connect(callback?: (err: Error) => void): Promise<pg.Client> | void {
      if (callback) return super.connect((error: Error) => callback(error ? noticed(error) : error));
      return super.connect().catch((error: Error) => Promise.reject(noticed(error)));
    }
  };
}

let secretsManager: SecretsManagerClient | undefined;
const sources = new Map<string, PasswordSource>();

/** The container's one source per secret, shared by every pool that connects with it. */
export function databasePassword(secretArn: string): PasswordSource {
  let source = sources.get(secretArn);
  if (!source) {
    const cfg = config();
    secretsManager ??= new SecretsManagerClient(awsClientOptions(cfg));
    source = passwordFromSecret(secretArn, {
      client: secretsManager,
      ttlMs: cfg.databasePasswordTtlMs,
      timeoutMs: cfg.awsRequestTimeoutMs,
    });
    sources.set(secretArn, source);
  }
  return source;
}
