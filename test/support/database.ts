import path from "node:path";
import pg from "pg";
import { migrate, MIGRATION_FOLDERS } from "../../shared/db/migrate.ts";
import { endPools } from "../../shared/db/pool.ts";
import { LOCAL_DIR } from "../../local/paths.ts";
import { postgresPart, postgresUrl } from "../../local/postgres/instance.ts";
import { Supervisor } from "../../local/supervisor.ts";

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
