import path from "node:path";
import pg from "pg";
import { migrate } from "../shared/db/migrate.ts";

/**
 * Applies an AWS stage's migrations, as the start command does locally (local/stack.ts), from a
 * machine that reaches the database:
 *   npx tsx deploy/migrate.ts orders "$ORDERS_URL"
 *   npx tsx deploy/migrate.ts payments "$PAYMENTS_URL"
 */
const FOLDERS = { orders: ["messaging", "orders"], payments: ["messaging", "payments"] } as const;

const [database, url] = process.argv.slice(2);
if ((database !== "orders" && database !== "payments") || !url) {
  process.stderr.write("usage: npx tsx deploy/migrate.ts orders|payments <postgres URL>\n");
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url, max: 1 });
try {
  const applied = await migrate(pool, FOLDERS[database].map((folder) => path.join(import.meta.dirname, "..", "migrations", folder)));
  process.stdout.write(applied.length ? `${database}: applied ${applied.join(", ")}\n` : `${database}: up to date\n`);
} finally {
  await pool.end();
}
