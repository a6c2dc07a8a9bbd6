import type { Order } from "../orders/orders.ts";

/** Every frame the WebSocket API sends, typed once. */
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
  /** null until a balance of this user has been announced. */
  balance: number | null;
}

export type Frame = OrderUpdatedFrame | BalanceUpdatedFrame | SnapshotFrame;

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
