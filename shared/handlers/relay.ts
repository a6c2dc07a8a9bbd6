import type { Context, ScheduledEvent } from "aws-lambda";
import type { Database } from "../contract/manifest.ts";
import { config } from "../config.ts";
import { db } from "../db/pool.ts";
import { logger } from "../logger.ts";
import { kafkaPublisher } from "../messaging/publisher.ts";
import { relayOutbox, type RelayResult } from "../messaging/relay/outbox-relay.ts";
import { pruneExpiredRows, type Pruned } from "../db/retention.ts";
import { recordEffect } from "../effects/unit-of-work.ts";
import { invocation } from "./invocations.ts";

type RelayEvent = Partial<ScheduledEvent> | Record<string, never>;

export type RelayOutcome = (RelayResult & { pruned?: Pruned }) | { failed: string };

/**
 * The relay function of one database. Invoked right after a commit (asynchronously, by the code
 * that wrote the row) and once a minute by its schedule, which also prunes expired rows.
 *
 * It never throws: an asynchronous invocation has nobody to report to (and locally a rejected one
 * would take serverless-offline down). A run that gives up while the broker is away asks for the
 * next run itself, so rows accepted during an outage go out as soon as the broker is back.
 */
export function relayHandler(database: Database) {
  return invocation(
    async (event: RelayEvent, context?: Pick<Context, "getRemainingTimeInMillis">): Promise<RelayOutcome> => {
      const started = performance.now();
      const scheduled = "source" in event && event.source === "aws.events";
      // Leave time to answer and to ask for the next run before the function's own timeout.
      const deadline = Date.now() + Math.max((context?.getRemainingTimeInMillis() ?? 30_000) - 5_000, 1_000);
      try {
        const result = await relayOutbox(db(database), {
          publisher: kafkaPublisher(),
          deadline,
          lingerMs: config().relayLingerMs,
        });
        const pruned = scheduled ? await pruneExpiredRows(db(database), config().retention) : undefined;
        if (result.brokerUnavailable || result.outOfTime) {
          logger.warn(
            { database, ...result },
            result.brokerUnavailable
              ? "broker still unavailable; asking for another relay run"
              : "rows still coming at the end of this run; asking for the next",
          );
          recordEffect({ kind: "relay", database });
        } else if (result.published > 0 || result.parked > 0 || (pruned && Object.values(pruned).some((n) => n > 0))) {
          logger.info({ database, ...result, pruned, ms: Math.round(performance.now() - started) }, "outbox relayed");
        }
        return { ...result, ...(pruned ? { pruned } : {}) };
      } catch (error) {
        logger.error({ err: error, database }, "relay run failed; the next request or the schedule runs it again");
        return { failed: error instanceof Error ? error.message : String(error) };
      }
    },
  );
}
