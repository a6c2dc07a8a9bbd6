import type { BalanceUpdated } from "../contract/events.ts";
import type { AtCommit } from "../db/transaction.ts";
import { emit } from "../messaging/outbox.ts";

export interface ChangedAccount {
  user_id: string;
  balance: number;
  version: number;
}

/**
 * Announces a balance change on payments.balance-updated, in the transaction that made it. For a
 * charge the correlation id is the order's; a deposit or an opening starts a thread of its own.
 */
export function announceBalance(
  tx: AtCommit,
  account: ChangedAccount,
  cause: BalanceUpdated["cause"],
  correlationId: string,
): void {
  emit(
    tx,
    "payments.balance-updated",
    { user_id: account.user_id, balance: account.balance, version: account.version, cause },
    correlationId,
  );
}
