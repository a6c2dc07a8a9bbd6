import { migrate, MIGRATION_FOLDERS } from "../shared/db/migrate.ts";

/**
 * Applies an AWS stage's migrations, as the start command does locally (local/stack.ts), from a
 * machine that reaches the database:
 *   npx tsx deploy/migrate.ts orders "$ORDERS_URL"
 *   npx tsx deploy/migrate.ts payments "$PAYMENTS_URL"
 */
const [database, url] = process.argv.slice(2);
if ((database !== "orders" && database !== "payments") || !url) {
  process.stderr.write("usage: npx tsx deploy/migrate.ts orders|payments <postgres URL>\n");
  process.exit(2);
}
const applied = await migrate(url, MIGRATION_FOLDERS[database]);
process.stdout.write(applied.length ? `${database}: applied ${applied.join(", ")}\n` : `${database}: up to date\n`);
