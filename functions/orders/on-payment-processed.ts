import { FUNCTIONS } from "../../shared/contract/manifest.ts";
import { together } from "../../shared/db/pipelined.ts";
import { kafkaHandler } from "../../shared/handlers/kafka.ts";
import { keepBalanceOfPayment } from "../../shared/notifications/balances.ts";
import { settleOrder } from "../../shared/orders/orders.ts";

/**
 * payments.processed -> order FINISHED or CANCELLED, and the balance the payment left kept -> both
 * pushed to the user's open sockets in one frame. Both statements go out before either is answered.
 */
export const handler = kafkaHandler(FUNCTIONS.onPaymentProcessed, (event) =>
  together(settleOrder(event), keepBalanceOfPayment(event)),
);
