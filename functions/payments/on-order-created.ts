import type { MSKEvent } from "aws-lambda";
import { config } from "../../shared/config.ts";
import { paymentsDb } from "../../shared/db/pool.ts";
import { consumeRecords } from "../../shared/messaging/consume.ts";
import { orderCreatedV1 } from "../../shared/messaging/events.ts";
import { requestRelay } from "../../shared/messaging/relay-trigger.ts";
import { chargeOrder } from "../../shared/payments/charges.ts";

/** orders.created -> charge each order once -> payments.processed (through the payments outbox). */
export const handler = async (event: MSKEvent): Promise<void> => {
  const summary = await consumeRecords(event, { schema: orderCreatedV1, db: paymentsDb, handle: chargeOrder });
  if (summary.handled + summary.parked > 0) await requestRelay(config().paymentsRelayFunction);
};
