import path from "node:path";
import pg from "pg";
import { migrate, MIGRATION_FOLDERS } from "../../shared/db/migrate.ts";
import { endPools } from "../../shared/db/pool.ts";
import { LOCAL_DIR } from "../../local/core/paths.ts";
import { postgresPart, postgresUrl } from "../../local/postgres/instance.ts";
import { Supervisor } from "../../local/core/supervisor.ts";

export interface TestDatabases {
  ordersUrl: string;
  paymentsUrl: string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server of its own with the two databases the shop uses, migrated as the start
 * command migrates them. The shared code under test finds them through the usual variables.
 */
export async function startTestDatabases(name: string, port: number): Promise<TestDatabases> {
  const supervisor = new Supervisor(
    postgresPart({
      name: "ordersDb",
      label: `${name} PostgreSQL`,
      dir: path.join(LOCAL_DIR, `test-${name}`, "db"),
      port,
      database: "orders",
    }),
    { say: () => undefined, record: () => undefined, giveUp: (error) => console.error(error.message) },
  );
  await supervisor.start();
  const admin = new pg.Client({ connectionString: postgresUrl(port, "postgres") });
  await admin.connect();
  await admin.query("CREATE DATABASE payments").finally(() => admin.end());
  const ordersUrl = postgresUrl(port, "orders");
  const paymentsUrl = postgresUrl(port, "payments");
  await migrate(ordersUrl, MIGRATION_FOLDERS.orders);
  await migrate(paymentsUrl, MIGRATION_FOLDERS.payments);
  process.env.ORDERS_DATABASE_URL = ordersUrl;
  process.env.PAYMENTS_DATABASE_URL = paymentsUrl;
  return {
    ordersUrl,
    paymentsUrl,
    stop: async () => {
      await endPools();
      await supervisor.stop();
    },
  };
}

/**
 * A pool for a test's own reads and writes. pg-pool lets go of a client before its socket has
 * closed, and a test's teardown stops the server right after: the client's last error then comes
 * with nobody listening and would end the run. A test's connections have nothing to say by then.
 */
export function testPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}
