import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { Database } from "../contract/manifest.ts";

/** Each database's folders under migrations/: the messaging tables both carry, then its own. */
export const MIGRATION_FOLDERS: Record<Database, string[]> = {
  orders: ["messaging", "orders"],
  payments: ["messaging", "payments"],
};

const MIGRATIONS_DIR = path.join(import.meta.dirname, "..", "..", "migrations");

/**
 * Applies the `NNN_name.sql` files of each folder of migrations/, folder by folder and in file
 * order, to the database at `url`, recording each as `<folder>/<file>` in schema_migrations; all in
 * one transaction. An advisory lock makes concurrent runners wait their turn. Returns what it applied.
 */
export async function migrate(url: string, folders: string[]): Promise<string[]> {
  const files: Array<{ version: string; file: string }> = [];
  for (const folder of folders) {
    const dir = path.join(MIGRATIONS_DIR, folder);
    for (const name of (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort()) {
      files.push({ version: `${folder}/${name}`, file: path.join(dir, name) });
    }
  }
  // One client, listened to for its whole life, ending included: a server that stops meanwhile
  // (Ctrl-C during start-up) fails the statement in flight, or nothing, and never the process. (A
  // pool's client, released and then ended, had a moment with no listener.)
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const applied: string[] = [];
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))");
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
      );
      const done = new Set(
        (await client.query<{ version: string }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version),
      );
      for (const { version, file } of files) {
        if (done.has(version)) continue;
        await client.query(await readFile(file, "utf8"));
        await client.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
        applied.push(version);
      }
      await client.query("COMMIT");
      return applied;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}
