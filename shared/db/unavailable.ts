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
