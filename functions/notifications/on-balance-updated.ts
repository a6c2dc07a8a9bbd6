import { FUNCTIONS } from "../../shared/contract/manifest.ts";
import { kafkaHandler } from "../../shared/handlers/kafka.ts";
import { recordBalance } from "../../shared/notifications/balances.ts";

/** payments.balance-updated -> the latest balance kept for snapshots and pushed to open sockets. */
export const handler = kafkaHandler(FUNCTIONS.onBalanceUpdated, recordBalance);
