import { logger } from "../logger.ts";
import type { Order } from "../orders/orders.ts";
import { connectionsOf, removeConnection } from "./connections.ts";
import { pushFrame } from "./push.ts";

export interface OrderUpdatedFrame {
  type: "ORDER_UPDATED";
  order_id: string;
  status: Order["status"];
  reason: string | null;
  amount: number;
  description: string;
  updated_at: string;
}

export interface BalanceUpdatedFrame {
  type: "BALANCE_UPDATED";
  user_id: string;
  balance: number;
}

export interface SnapshotFrame {
  type: "SNAPSHOT";
  user_id: string;
  orders: Order[];
  /** null until a balance of this user has been announced (no account, or none yet). */
  balance: number | null;
}

export type Frame = OrderUpdatedFrame | BalanceUpdatedFrame | SnapshotFrame;

/**
 * Sends frames to every open connection of a user. A push is best effort: a closed connection is
 * forgotten, any other failure is logged, and neither fails the work that caused the push.
 */
export async function notifyUser(userId: string, frames: Frame[], correlationId?: string): Promise<void> {
  const log = logger.child({ correlation_id: correlationId, user_id: userId });
  let connections: string[];
  try {
    connections = await connectionsOf(userId);
  } catch (error) {
    log.warn({ err: error }, "could not read connections; push skipped");
    return;
  }
  await Promise.all(
    connections.map(async (connectionId) => {
      try {
        for (const frame of frames) {
          if ((await pushFrame(connectionId, frame)) === "gone") {
            await removeConnection(connectionId);
            log.info({ connection_id: connectionId }, "closed connection removed");
            return;
          }
        }
      } catch (error) {
        log.warn({ err: error, connection_id: connectionId }, "push failed");
      }
    }),
  );
}

export function orderUpdatedFrame(order: Order): OrderUpdatedFrame {
  return {
    type: "ORDER_UPDATED",
    order_id: order.id,
    status: order.status,
    reason: order.reason,
    amount: order.amount,
    description: order.description,
    updated_at: order.updated_at,
  };
}

/** An order reached its final status. */
export async function notifyOrderSettled(order: Order): Promise<void> {
  await notifyUser(order.user_id, [orderUpdatedFrame(order)], order.id);
}
