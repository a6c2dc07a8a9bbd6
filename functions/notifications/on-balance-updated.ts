import type { MSKEvent } from "aws-lambda";
import { config } from "../../shared/config.ts";
import { ordersDb } from "../../shared/db/pool.ts";
import { consumeRecords } from "../../shared/messaging/consume.ts";
import { balanceUpdatedV1 } from "../../shared/messaging/events.ts";
import { requestRelay } from "../../shared/messaging/relay-trigger.ts";
import { recordBalance } from "../../shared/notifications/balances.ts";

/** payments.balance-updated -> the latest balance kept for snapshots and pushed to open sockets. */
export const handler = async (event: MSKEvent): Promise<void> => {
  const summary = await consumeRecords(event, { schema: balanceUpdatedV1, db: ordersDb, handle: recordBalance });
  if (summary.parked > 0) await requestRelay(config().ordersRelayFunction);
};
