import type { ScheduledEvent } from "aws-lambda";
import type pg from "pg";
import { logger } from "../logger.ts";
import { sharedProducer } from "./kafka.ts";
import { deletePublishedRows, relayOutbox, type RelayResult } from "./outbox.ts";

type RelayEvent = Partial<ScheduledEvent> | Record<string, never>;

/** Errors of a database that is still starting: refused, starting up, not created, not migrated. */
const NOT_READY_YET = new Set(["ECONNREFUSED", "57P03", "3D000", "42P01"]);

/**
 * The relay function of one database. Invoked right after a commit (asynchronously, by the
 * service that wrote the row) and once a minute by its schedule, which also prunes old rows.
 */
export function relayHandler(db: () => pg.Pool, retentionHours: () => number) {
  return async (event: RelayEvent): Promise<RelayResult & { pruned: number }> => {
    const started = performance.now();
    const scheduled = "source" in event && event.source === "aws.events";
    let result: RelayResult;
    try {
      result = await relayOutbox(db(), sharedProducer);
    } catch (error) {
      // The start command brings serverless-offline up while the databases are still starting
      // and being migrated, and a schedule can fire in between; that sweep has nothing to do yet.
      if (scheduled && NOT_READY_YET.has(String((error as { code?: string }).code))) {
        logger.info({ code: (error as { code?: string }).code }, "database not ready yet; scheduled sweep skipped");
        return { published: 0, deferred: false, pruned: 0 };
      }
      throw error;
    }
    const pruned = scheduled ? await deletePublishedRows(db(), retentionHours()) : 0;
    if (result.published > 0 || pruned > 0) logger.info({ ...result, pruned, ms: Math.round(performance.now() - started) }, "outbox relayed");
    return { ...result, pruned };
  };
}
