import { execFile } from "node:child_process";
import type { RunningStack } from "../../local/stack.ts";

/**
 * Runs `npm run dead-letters -- <args>` against a test stack (its brokers, and its databases for
 * the redrive ledger), as an operator would; resolves with how it ended, never rejects on a
 * non-zero exit.
 */
export function deadLetters(
  stack: Pick<RunningStack, "kafkaBrokers" | "ordersDatabaseUrl" | "paymentsDatabaseUrl">,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/dead-letters.ts", ...args],
      {
        env: {
          ...process.env,
          KAFKA_BROKERS: stack.kafkaBrokers.join(","),
          ORDERS_DATABASE_URL: stack.ordersDatabaseUrl,
          PAYMENTS_DATABASE_URL: stack.paymentsDatabaseUrl,
        },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    ),
  );
}
