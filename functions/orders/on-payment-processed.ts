import { kafkaHandler } from "../../shared/handlers/kafka.ts";
import { settleOrder } from "../../shared/orders/orders.ts";

/** payments.processed -> order FINISHED or CANCELLED -> pushed to the user's open sockets. */
export const handler = kafkaHandler({ topic: "payments.processed", database: "orders", handle: settleOrder });
