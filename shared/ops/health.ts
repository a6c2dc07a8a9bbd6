import type { z } from "zod";
import type { Database } from "../contract/manifest.ts";
import type { health } from "../contract/http.ts";
import { db } from "../db/pool.ts";
import { logger } from "../logger.ts";
import { sharedAdmin } from "../messaging/kafka.ts";
import { outboxBacklog } from "../messaging/outbox-backlog.ts";
import { withTimeout } from "../timeout.ts";

export type HealthReport = z.infer<typeof health>;
type State = HealthReport["checks"]["kafka"];

const PROBE_TIMEOUT_MS = 2_000;
/** An outbox whose oldest waiting row is older than this, or that holds parked rows, is logged. */
const LAGGING_SECONDS = 60;

/** Up or down; why it is down goes to the log, never to the (anonymous) caller. */
async function probe(component: string, run: () => Promise<unknown>): Promise<State> {
  try {
    await withTimeout(run(), PROBE_TIMEOUT_MS, component);
    return "up";
  } catch (error) {
    logger.warn({ err: error, component }, "health: component down");
    return "down";
  }
}

async function kafkaCheck(): Promise<void> {
  try {
    // One admin connection per container, kept: a health call opens no broker connection of its own.
    await (await sharedAdmin.get()).metadata({ topics: [], forceUpdate: true });
  } catch (error) {
    sharedAdmin.reset();
    throw error;
  }
}

/** How far an outbox lags, for the operators' log only. */
async function logBacklog(database: Database): Promise<void> {
  try {
    const { pending, oldestSeconds, parked } = await withTimeout(
      outboxBacklog(db(database)),
      PROBE_TIMEOUT_MS,
      "outbox backlog",
    );
    if (parked > 0 || (oldestSeconds ?? 0) > LAGGING_SECONDS)
      logger.warn({ database, pending, oldest_seconds: oldestSeconds, parked }, "health: outbox lagging");
  } catch (error) {
    logger.warn({ err: error, database }, "health: outbox backlog unknown");
  }
}

/** Kafka and both databases, each asked for a real answer within 2 s. */
export async function checkHealth(): Promise<HealthReport> {
  const [kafka, orders_db, payments_db] = await Promise.all([
    probe("kafka", kafkaCheck),
    probe("orders database", () => db("orders").query("SELECT 1")),
    probe("payments database", () => db("payments").query("SELECT 1")),
  ]);
  await Promise.all([orders_db === "up" && logBacklog("orders"), payments_db === "up" && logBacklog("payments")]);
  const ok = kafka === "up" && orders_db === "up" && payments_db === "up";
  return { status: ok ? "ok" : "degraded", checks: { kafka, orders_db, payments_db } };
}
