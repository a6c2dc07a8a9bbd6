import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type pg from "pg";

/**
 * Applies the `NNN_name.sql` files of each folder, folder by folder and in file order, recording
 * each as `<folder>/<file>` in schema_migrations; all in one transaction. An advisory lock makes
 * concurrent runners wait their turn.
 */
export async function migrate(pool: pg.Pool, dirs: string[]): Promise<string[]> {
  const files: Array<{ version: string; file: string }> = [];
  for (const dir of dirs) {
    for (const name of (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort()) {
      files.push({ version: `${path.basename(dir)}/${name}`, file: path.join(dir, name) });
    }
  }
  const applied: string[] = [];
  const tx = await pool.connect();
  try {
    await tx.query("BEGIN");
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('schema_migrations'))");
    await tx.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    );
    const done = new Set((await tx.query<{ version: string }>("SELECT version FROM schema_migrations")).rows.map((r) => r.version));
    for (const { version, file } of files) {
      if (done.has(version)) continue;
      await tx.query(await readFile(file, "utf8"));
      await tx.query("INSERT INTO schema_migrations (version) VALUES ($1)", [version]);
      applied.push(version);
    }
    await tx.query("COMMIT");
  } catch (error) {
    await tx.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    tx.release();
  }
  return applied;
}
