import pino from "pino";

/**
 * Structured JSON logs. `correlation_id` is the order id: pass it in a child logger so one grep
 * follows an order from the HTTP request through both services and back to the browser push.
 */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { service: process.env.SERVICE_NAME ?? "gozon-shop", fn: process.env.AWS_LAMBDA_FUNCTION_NAME },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});

export type Logger = typeof logger;

export function forOrder(orderId: string, extra: Record<string, unknown> = {}): Logger {
  return logger.child({ correlation_id: orderId, ...extra });
}
