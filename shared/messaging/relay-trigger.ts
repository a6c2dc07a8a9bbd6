import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { Database } from "../contract/manifest.ts";
import { config } from "../config.ts";
import { db } from "../db/pool.ts";
import { logger } from "../logger.ts";
import { awsClientOptions } from "../aws-clients.ts";
import { isRelayRunning } from "./relay/relay-lock.ts";

let lambda: LambdaClient | undefined;

/**
 * Asks a database's outbox relay to run now, without waiting for it (an asynchronous Lambda
 * invoke, a few ms), unless one is running already: that one publishes the new rows too. This is
 * what puts a committed row on Kafka within milliseconds; the relay's one-minute schedule only
 * sweeps up after a lost request. `running` is the answer when the writer already asked, right
 * behind its COMMIT; otherwise the database is asked here. Never throws: the row is safe either way.
 */
export async function requestRelay(database: Database, running?: boolean): Promise<void> {
  const cfg = config();
  const functionName = cfg.relayFunctions[database];
  if (!functionName) return;
  if (running ?? (await isRelayRunning(db(database)).catch(() => false))) return;
  lambda ??= new LambdaClient({
    ...awsClientOptions(cfg),
    ...(cfg.lambdaEndpoint ? { endpoint: cfg.lambdaEndpoint } : {}),
  });
  try {
    await lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: "Event", Payload: Buffer.from("{}") }),
    );
  } catch (error) {
    logger.warn({ err: error, relay: functionName }, "relay request failed; the scheduled sweep will publish the rows");
  }
}
