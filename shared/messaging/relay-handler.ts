import type { ScheduledEvent } from "aws-lambda";
import type pg from "pg";
import { logger } from "../logger.ts";
import { sharedProducer } from "./kafka.ts";
import { deletePublishedRows, relayOutbox, type RelayResult } from "./outbox.ts";

type RelayEvent = Partial<ScheduledEvent> | Record<string, never>;

/**
 * The relay function of one database. Invoked right after a commit (asynchronously, by the
 * service that wrote the row) and once a minute by its schedule, which also prunes old rows.
 */
export function relayHandler(db: () => pg.Pool, retentionHours: () => number) {
  return async (event: RelayEvent): Promise<RelayResult & { pruned: number }> => {
    const started = performance.now();
    const result = await relayOutbox(db(), sharedProducer);
    const scheduled = "source" in event && event.source === "aws.events";
    const pruned = scheduled ? await deletePublishedRows(db(), retentionHours()) : 0;
    if (result.published > 0 || pruned > 0) logger.info({ ...result, pruned, ms: Math.round(performance.now() - started) }, "outbox relayed");
    return { ...result, pruned };
  };
}
