import { FUNCTIONS } from "../../shared/contract/manifest.ts";
import { relayHandler } from "../../shared/handlers/relay.ts";

export const handler = relayHandler(FUNCTIONS.ordersOutboxRelay.databases[0]);
