import type { z } from "zod";
import type { Database } from "../after-commit.ts";
import type { health } from "../contract/http.ts";
import { db } from "../db/pool.ts";
import { sharedAdmin } from "../messaging/kafka.ts";
import { outboxBacklog } from "../messaging/relay.ts";
import { withTimeout } from "../timeout.ts";

export type HealthReport = z.infer<typeof health>;
type Check = HealthReport["checks"]["kafka"];

const PROBE_TIMEOUT_MS = 2_000;

async function probe(what: string, run: () => Promise<string | undefined>): Promise<Check> {
  try {
    const detail = await withTimeout(run(), PROBE_TIMEOUT_MS, what);
    return detail ? { ok: true, detail } : { ok: true };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

async function kafkaCheck(): Promise<string> {
  try {
    const cluster = await (await sharedAdmin.get()).describeCluster();
    return `${cluster.brokers.length} broker(s)`;
  } catch (error) {
    sharedAdmin.reset();
    throw error;
  }
}

async function backlog(database: Database): Promise<HealthReport["outbox"]["orders"]> {
  try {
    const { pending, oldestSeconds, parked } = await withTimeout(outboxBacklog(db(database)), PROBE_TIMEOUT_MS, "outbox backlog");
    return { pending, oldest_seconds: oldestSeconds, parked };
  } catch {
    return null;
  }
}

/** Kafka and both databases, each asked for a real answer within 2 s, and how far each outbox lags. */
export async function checkHealth(): Promise<HealthReport> {
  const [kafka, orders_db, payments_db] = await Promise.all([
    probe("kafka", kafkaCheck),
    probe("orders database", async () => void (await db("orders").query("SELECT 1"))),
    probe("payments database", async () => void (await db("payments").query("SELECT 1"))),
  ]);
  const ok = kafka.ok && orders_db.ok && payments_db.ok;
  const [orders, payments] = await Promise.all([orders_db.ok ? backlog("orders") : null, payments_db.ok ? backlog("payments") : null]);
  return { status: ok ? "ok" : "degraded", checks: { kafka, orders_db, payments_db }, outbox: { orders, payments } };
}
