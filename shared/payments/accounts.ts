import { randomUUID } from "node:crypto";
import type { z } from "zod";
import { config } from "../config.ts";
import type { account } from "../contract/http.ts";
import { oncePerIdempotencyKey, type Replayable } from "../db/idempotency.ts";
import { db } from "../db/pool.ts";
import { withTransaction } from "../db/transaction.ts";
import { Conflict, NotFound } from "../errors.ts";
import { announceBalance, type ChangedAccount } from "./balance-events.ts";

export type Account = z.infer<typeof account>;

/** Opens an account with balance 0 and announces that balance, so snapshots know it from the start. */
export async function openAccount(userId: string): Promise<Account> {
  return withTransaction("payments", async (tx) => {
    const inserted = await tx.query<ChangedAccount>(
      "INSERT INTO accounts (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING RETURNING user_id, balance, version",
      [userId],
    );
    const opened = inserted.rows[0];
    if (!opened) throw new Conflict(`An account for user ${userId} already exists`, "user_id");
    announceBalance(tx, opened, "opened", randomUUID());
    return { user_id: opened.user_id, balance: opened.balance };
  });
}

/** Adds money to an account, with its ledger entry and balance event, in one transaction. */
export async function deposit(userId: string, amount: number, idempotencyKey?: string): Promise<Replayable<Account>> {
  return withTransaction("payments", (tx) =>
    // Keys are the user's own: another user's same key is another key.
    oncePerIdempotencyKey(
      tx,
      `payments.deposit/${userId}`,
      idempotencyKey,
      { userId, amount },
      config().retention.idempotencyKeyHours,
      async () => {
        const updated = await tx.query<ChangedAccount>(
          `UPDATE accounts SET balance = balance + $2, version = version + 1, updated_at = now()
          WHERE user_id = $1 RETURNING user_id, balance, version`,
          [userId, amount],
        );
        const changed = updated.rows[0];
        if (!changed) throw new NotFound(`No account for user ${userId}`, "user_id");
        await tx.query("INSERT INTO ledger (user_id, kind, amount) VALUES ($1, 'DEPOSIT', $2)", [userId, amount]);
        announceBalance(tx, changed, "deposit", randomUUID());
        return { user_id: changed.user_id, balance: changed.balance };
      },
    ),
  );
}

export async function balanceOf(userId: string): Promise<Account> {
  const result = await db("payments").query<Account>("SELECT user_id, balance FROM accounts WHERE user_id = $1", [
    userId,
  ]);
  const account = result.rows[0];
  if (!account) throw new NotFound(`No account for user ${userId}`, "user_id");
  return account;
}
