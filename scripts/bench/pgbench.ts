import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { migrate, MIGRATION_FOLDERS } from "../../shared/db/migrate.ts";
import { LOCAL_DIR } from "../../local/core/paths.ts";
import { postgresPart, postgresUrl } from "../../local/postgres/instance.ts";
import { Supervisor } from "../../local/core/supervisor.ts";

/** pgbench from PATH or a Debian PostgreSQL install (`apt-get install postgresql-client`). */
function pgbenchBinary(): string | undefined {
  const debian = existsSync("/usr/lib/postgresql")
    ? readdirSync("/usr/lib/postgresql").map((v) => `/usr/lib/postgresql/${v}/bin/pgbench`)
    : [];
  return ["/usr/bin/pgbench", ...debian].find((p) => existsSync(p));
}

// The three transactions one order costs, as the shop runs them (shared/orders, shared/payments).
const PLACE_ORDER = `\\set amount random(1, 100)
BEGIN;
INSERT INTO orders (id, user_id, amount, description) VALUES (gen_random_uuid(), gen_random_uuid(), :amount, 'pgbench');
INSERT INTO outbox (event_id, topic, record_key, record_value, record_headers) VALUES (gen_random_uuid(), 'orders.created', '\\x6b', '\\x7b7d', '[]');
END;
`;
const CHARGE = `\\set user random(1, 1000)
BEGIN;
INSERT INTO inbox (event_id, topic) VALUES (gen_random_uuid(), 'orders.created');
INSERT INTO payments (order_id, user_id, amount, status) VALUES (gen_random_uuid(), md5(:user::text)::uuid, 1, 'CANCELLED');
UPDATE accounts SET balance = balance - 1, version = version + 1, updated_at = now() WHERE user_id = md5(:user::text)::uuid AND balance >= 1;
INSERT INTO ledger (user_id, kind, amount, order_id) VALUES (md5(:user::text)::uuid, 'CHARGE', -1, gen_random_uuid());
INSERT INTO outbox (event_id, topic, record_key, record_value, record_headers) VALUES (gen_random_uuid(), 'payments.processed', '\\x6b', '\\x7b7d', '[]');
INSERT INTO outbox (event_id, topic, record_key, record_value, record_headers) VALUES (gen_random_uuid(), 'payments.balance-updated', '\\x6b', '\\x7b7d', '[]');
END;
`;
const SETTLE = `\\set order random(1, 200000)
BEGIN;
INSERT INTO inbox (event_id, topic) VALUES (gen_random_uuid(), 'payments.processed');
UPDATE orders SET status = 'FINISHED', updated_at = now() WHERE id = md5(:order::text)::uuid AND status = 'NEW';
END;
`;

/**
 * The machine's own limit for the shop's database work: the three transactions of one order, mixed
 * 1:1:1, run by pgbench with 8 clients against a throwaway PostgreSQL of the same build as the
 * shop's. Returns transactions per second and the orders per second that allows (tps / 3).
 */
export async function databaseLimit(
  port: number,
  seconds = 20,
): Promise<{ tps: number; ordersPerSecond: number } | { skipped: string }> {
  const binary = pgbenchBinary();
  if (!binary) return { skipped: "pgbench not found (apt-get install postgresql-client)" };
  const supervisor = new Supervisor(
    postgresPart({
      name: "ordersDb",
      label: "pgbench PostgreSQL",
      dir: path.join(LOCAL_DIR, "bench-pgbench"),
      port,
      database: "shop",
    }),
    { say: () => undefined, record: () => undefined, giveUp: () => undefined },
  );
  await supervisor.start();
  try {
    const url = postgresUrl(port, "shop");
    // Both services' tables in one database: the limit of the machine, not of one service.
    await migrate(url, [...new Set([...MIGRATION_FOLDERS.orders, ...MIGRATION_FOLDERS.payments])]);
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await pool.query(
        "INSERT INTO accounts (user_id, balance) SELECT md5(i::text)::uuid, 1000000000000 FROM generate_series(1, 1000) i",
      );
      await pool.query(
        "INSERT INTO orders (id, user_id, amount) SELECT md5(i::text)::uuid, gen_random_uuid(), 1 FROM generate_series(1, 200000) i",
      );
      await pool.query("VACUUM ANALYZE");
    } finally {
      await pool.end();
    }
    const dir = await mkdtemp(path.join(os.tmpdir(), "pgbench-"));
    const files = await Promise.all(
      Object.entries({ place: PLACE_ORDER, charge: CHARGE, settle: SETTLE }).map(async ([name, sql]) => {
        const file = path.join(dir, `${name}.sql`);
        await writeFile(file, sql);
        return file;
      }),
    );
    const { stdout } = await promisify(execFile)(binary, [
      "-n",
      "-c",
      "8",
      "-j",
      "2",
      "-T",
      String(seconds),
      ...files.flatMap((f) => ["-f", f]),
      url,
    ]);
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    return { tps: Math.round(tps), ordersPerSecond: Math.round(tps / 3) };
  } finally {
    await supervisor.stop();
  }
}
