import type { Tx } from "../db/transaction.ts";
import { balanceUpdated, TOPICS, type BalanceUpdated } from "../messaging/events.ts";
import { addToOutbox } from "../messaging/outbox.ts";

export interface ChangedAccount {
  user_id: string;
  balance: number;
  version: number;
}

/** Announces a balance change on payments.balance-updated, in the transaction that made it. */
export async function announceBalance(tx: Tx, account: ChangedAccount, cause: BalanceUpdated["cause"], orderId?: string): Promise<void> {
  const event = balanceUpdated({ user_id: account.user_id, balance: account.balance, version: account.version, cause }, orderId);
  await addToOutbox(tx, { eventId: event.event_id, topic: TOPICS.balanceUpdated, key: account.user_id, payload: event });
}
