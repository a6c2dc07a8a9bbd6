import type { MSKEvent } from "aws-lambda";
import { config } from "../../shared/config.ts";
import { ordersDb } from "../../shared/db/pool.ts";
import { consumeRecords } from "../../shared/messaging/consume.ts";
import { paymentProcessedV1 } from "../../shared/messaging/events.ts";
import { requestRelay } from "../../shared/messaging/relay-trigger.ts";
import { settleOrder } from "../../shared/orders/payment-results.ts";

/** payments.processed -> order FINISHED or CANCELLED -> pushed to the user's open sockets. */
export const handler = async (event: MSKEvent): Promise<void> => {
  const summary = await consumeRecords(event, { schema: paymentProcessedV1, db: ordersDb, handle: settleOrder });
  if (summary.parked > 0) await requestRelay(config().ordersRelayFunction);
};
