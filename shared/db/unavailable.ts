/**
 * Whether an error means "the database cannot be reached right now" rather than "this request is
 * wrong": refused or dropped connections, timeouts, a server shutting down or starting up. Such a
 * failure is answered 503 with Retry-After and retried by the event source; it heals by itself.
 */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
// SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, crash, starting up), 53300 (too many connections).
const SQLSTATE = /^(08|57P)|^53300$/;
const MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (MESSAGES.test(cause.message)) return true;
    if (cause instanceof AggregateError && cause.errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}
