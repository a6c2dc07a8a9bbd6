import { ApiGatewayManagementApiClient, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import { config } from "../config.ts";
import type { Frame } from "../contract/frames.ts";
import { awsClientOptions } from "../aws-clients.ts";

let client: ApiGatewayManagementApiClient | undefined;

export type PushOutcome = "sent" | "gone";

/** Sends one JSON frame to one connection. "gone" (HTTP 410) means the socket closed without telling us. */
export async function pushFrame(connectionId: string, frame: Frame): Promise<PushOutcome> {
  const cfg = config();
  client ??= new ApiGatewayManagementApiClient({ ...awsClientOptions(cfg), endpoint: cfg.websocketEndpoint });
  try {
    await client.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }),
    );
    return "sent";
  } catch (error) {
    // Offline answers 410 without an error type header, so the SDK names it "Unknown".
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 410) return "gone";
    throw error;
  }
}
