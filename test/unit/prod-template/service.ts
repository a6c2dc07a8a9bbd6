/**
 * `sls package --stage prod` with the sample stage file, offline, in a copy of the service (so the
 * bundler's work folder never touches the one a running `npm start` uses), then the template as
 * CloudFormation would get it.
 */
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";

export const ROOT = path.resolve(import.meta.dirname, "../../..");
export const SAMPLE = parseYaml(await readFile(path.join(ROOT, "stages/prod.sample.yml"), "utf8")) as {
  mskClusterArn: string;
  subnetIds: string[];
  securityGroupIds: string[];
  ordersDatabaseUrl: string;
  ordersDatabasePasswordSecret: string;
  paymentsDatabaseUrl: string;
  paymentsDatabasePasswordSecret: string;
  paymentsDatabaseSecretKmsKey: string;
  tracesEndpoint: string;
};
export const CLUSTER = SAMPLE.mskClusterArn;
export const STAGE = "prod";

/** What the packaging shell has: local values everywhere, none of which may reach the template. */
export const LEAKY_SHELL = {
  ORDERS_DATABASE_URL: "postgres://postgres@127.0.0.1:55432/orders",
  PAYMENTS_DATABASE_URL: "postgres://postgres@127.0.0.1:55433/payments",
  KAFKA_BROKERS: "127.0.0.1:9092",
  WEBSOCKET_ENDPOINT: "http://127.0.0.1:3001",
  LAMBDA_ENDPOINT: "http://127.0.0.1:3002",
  MSK_CLUSTER_ARN: "arn:aws:kafka:us-east-1:000000000000:cluster/local/0000-1",
};

export const execFileP = promisify(execFile);

export async function sls(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; output: string }> {
  const cli = path.join(dir, "node_modules", "serverless", "bin", "serverless.js");
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [cli, ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        AWS_ACCESS_KEY_ID: "x",
        AWS_SECRET_ACCESS_KEY: "x",
        AWS_EC2_METADATA_DISABLED: "true",
        SLS_TELEMETRY_DISABLED: "1",
        NPM_CONFIG_UPDATE_NOTIFIER: "false",
        ...env,
      },
      maxBuffer: 32 * 1024 * 1024,
      timeout: 240_000,
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? ""}${e.message}` };
  }
}

/** The service's files, the installed packages linked, in a folder of its own. */
export async function serviceCopy(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "gozon-package-"));
  for (const entry of [
    "serverless.yml",
    "package.json",
    "tsconfig.json",
    "deploy",
    "stages",
    "functions",
    "shared",
    "local",
  ]) {
    await mkdir(path.dirname(path.join(dir, entry)), { recursive: true });
    await cp(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  await symlink(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}
