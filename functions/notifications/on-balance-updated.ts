import { kafkaHandler } from "../../shared/handlers/kafka.ts";
import { recordBalance } from "../../shared/notifications/balances.ts";

/** payments.balance-updated -> the latest balance kept for snapshots and pushed to open sockets. */
export const handler = kafkaHandler({ topic: "payments.balance-updated", database: "orders", handle: recordBalance });
