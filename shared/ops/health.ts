import { ordersDb, paymentsDb } from "../db/pool.ts";
import { discoverBrokers, kafkaClient } from "../messaging/kafka.ts";
import { outboxBacklog } from "../messaging/outbox.ts";

export interface Check {
  ok: boolean;
  detail?: string;
}

export interface HealthReport {
  status: "ok" | "degraded";
  checks: { kafka: Check; orders_db: Check; payments_db: Check };
  /** Outbox lag per database: rows waiting for the relay, and the age of the oldest. */
  outbox: Record<"orders" | "payments", { pending: number; oldest_seconds: number | null } | null>;
}

async function probe(run: () => Promise<string | undefined>, timeoutMs = 2_000): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return detail ? { ok: true, detail } : { ok: true };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

async function kafkaCheck(): Promise<string> {
  const admin = kafkaClient(await discoverBrokers(), "health").admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    return `${cluster.brokers.length} broker(s)`;
  } finally {
    await admin.disconnect();
  }
}

async function backlog(pool: typeof ordersDb): Promise<HealthReport["outbox"]["orders"]> {
  try {
    const { pending, oldestSeconds } = await outboxBacklog(pool());
    return { pending, oldest_seconds: oldestSeconds };
  } catch {
    return null;
  }
}

/** Kafka and both databases, each asked for a real answer, and how far each outbox lags. */
export async function checkHealth(): Promise<HealthReport> {
  const [kafka, orders_db, payments_db] = await Promise.all([
    probe(kafkaCheck),
    probe(async () => void (await ordersDb().query("SELECT 1"))),
    probe(async () => void (await paymentsDb().query("SELECT 1"))),
  ]);
  const ok = kafka.ok && orders_db.ok && payments_db.ok;
  const [orders, payments] = await Promise.all([orders_db.ok ? backlog(ordersDb) : null, payments_db.ok ? backlog(paymentsDb) : null]);
  return { status: ok ? "ok" : "degraded", checks: { kafka, orders_db, payments_db }, outbox: { orders, payments } };
}
