import { DatabasePasswordUnavailable } from "./secret-password.ts";

/**
 * Whether an error means "the database cannot serve this right now" rather than "this request is
 * wrong": refused or dropped connections, timeouts, a server shutting down or starting up, a lock
 * or serialization conflict, a password that cannot be read or was just rotated. Such a failure is
 * answered 503 with Retry-After and waited out by a consumer as a whole batch, never blamed on a
 * record; it heals by itself.
 */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, crash,
// starting up); 53300 too many connections; 57014 a statement cancelled by its timeout (an
// overloaded or locked database, not a bad request); 55P03, 40001, 40P01 lock not available,
// serialization failure, deadlock: the same work succeeds when tried again.
const SQLSTATE = /^(08|57P)|^(53300|57014|55P03|40001|40P01)$/;
const MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (MESSAGES.test(cause.message) || cause instanceof DatabasePasswordUnavailable) return true;
    if (cause instanceof AggregateError && cause.errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}

/**
 * Runs `work`, and again while it fails only because the database cannot serve it right now (a
 * burst that outwaits the pool, a restart), backing off from 100 ms to 1 s, until `budgetMs` is
 * spent: then the last failure is thrown. For work that is told once and never again, or whose
 * caller would only retry it: it is waited out here instead.
 */
export async function waitingOutUnavailability<T>(work: () => Promise<T>, budgetMs: number): Promise<T> {
  const deadline = performance.now() + budgetMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || performance.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
