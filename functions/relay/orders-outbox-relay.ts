import { config } from "../../shared/config.ts";
import { ordersDb } from "../../shared/db/pool.ts";
import { relayHandler } from "../../shared/messaging/relay-handler.ts";

export const handler = relayHandler(ordersDb, () => config().outboxRetentionHours);
