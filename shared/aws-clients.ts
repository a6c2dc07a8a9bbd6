import { config } from "./config.ts";

/**
 * Options for every AWS SDK client of the functions (Lambda for relay wake-ups, API Gateway's
 * management API for pushes, MSK for broker discovery): bounded connection and request times, one retry.
 */
export function awsClientOptions(cfg = config()) {
  return {
    region: cfg.awsRegion,
    maxAttempts: 2,
    requestHandler: { connectionTimeout: cfg.awsRequestTimeoutMs, requestTimeout: cfg.awsRequestTimeoutMs },
  };
}
