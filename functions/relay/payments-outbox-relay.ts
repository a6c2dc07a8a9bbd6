import { config } from "../../shared/config.ts";
import { paymentsDb } from "../../shared/db/pool.ts";
import { relayHandler } from "../../shared/messaging/relay-handler.ts";

export const handler = relayHandler(paymentsDb, () => config().outboxRetentionHours);
