import { relayHandler } from "../../shared/handlers/relay.ts";

export const handler = relayHandler("payments");
