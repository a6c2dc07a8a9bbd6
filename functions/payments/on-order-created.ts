import { FUNCTIONS } from "../../shared/contract/manifest.ts";
import { kafkaHandler } from "../../shared/handlers/kafka.ts";
import { chargeOrder } from "../../shared/payments/charges.ts";

/** orders.created -> charge each order once -> payments.processed (through the payments outbox). */
export const handler = kafkaHandler(FUNCTIONS.onOrderCreated, chargeOrder);
