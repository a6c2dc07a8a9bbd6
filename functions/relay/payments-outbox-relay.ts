import { FUNCTIONS } from "../../shared/contract/manifest.ts";
import { relayHandler } from "../../shared/handlers/relay.ts";

export const handler = relayHandler(FUNCTIONS.paymentsOutboxRelay.databases[0]);
