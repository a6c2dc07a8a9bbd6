import { oncePerIdempotencyKey, type Replayable } from "../db/idempotency.ts";
import { paymentsDb } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { Conflict, NotFound } from "../errors.ts";

export interface Account {
  user_id: string;
  balance: number;
}

export async function openAccount(userId: string): Promise<Account> {
  const result = await paymentsDb().query<Account>(
    "INSERT INTO accounts (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING RETURNING user_id, balance",
    [userId],
  );
  const account = result.rows[0];
  if (!account) throw new Conflict(`An account for user ${userId} already exists`, "user_id");
  return account;
}

/** Adds money to an account and writes the ledger entry, in one transaction. */
export async function deposit(userId: string, amount: number, idempotencyKey?: string): Promise<Replayable<Account>> {
  return withTransaction(paymentsDb(), (tx) =>
    oncePerIdempotencyKey(tx, "payments.deposit", idempotencyKey, { userId, amount }, async () => {
      const updated = await tx.query<Account>(
        "UPDATE accounts SET balance = balance + $2, updated_at = now() WHERE user_id = $1 RETURNING user_id, balance",
        [userId, amount],
      );
      const account = updated.rows[0];
      if (!account) throw new NotFound(`No account for user ${userId}`, "user_id");
      await tx.query("INSERT INTO ledger (user_id, kind, amount) VALUES ($1, 'DEPOSIT', $2)", [userId, amount]);
      return account;
    }),
  );
}

export async function balanceOf(userId: string): Promise<Account> {
  const result = await paymentsDb().query<Account>("SELECT user_id, balance FROM accounts WHERE user_id = $1", [userId]);
  const account = result.rows[0];
  if (!account) throw new NotFound(`No account for user ${userId}`, "user_id");
  return account;
}
