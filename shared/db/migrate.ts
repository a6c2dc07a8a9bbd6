import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { Database } from "../after-commit.ts";
import { withConnection } from "./pool.ts";

/** Each database's folders under migrations/: the messaging tables both carry, then its own. */
export const MIGRATION_FOLDERS: Record<Database, string[]> = { orders: ["messaging", "orders"], payments: ["messaging", "payments"] };

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
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  // An idle connection whose server stops (Ctrl-C during start-up) must not end the process.
  pool.on("error", () => undefined);
  try {
    return await withConnection(pool, async (tx, discard) => {
      const applied: string[] = [];
      try {
        await tx.query("BEGIN");
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))");
        await tx.query("CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
        const done = new Set((await tx.query<{ version: string }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version));
        for (const { version, file } of files) {
          if (done.has(version)) continue;
          await tx.query(await readFile(file, "utf8"));
          await tx.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
          applied.push(version);
        }
        await tx.query("COMMIT");
        return applied;
      } catch (error) {
        await tx.query("ROLLBACK").catch(discard);
        throw error;
      }
    });
  } finally {
    await pool.end();
  }
}
