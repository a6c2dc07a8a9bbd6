import type { Frame } from "../contract/frames.ts";
import { logger } from "../logger.ts";
import { connectionsOf, removeConnection } from "./connections.ts";
import { pushFrame } from "./push.ts";

/**
 * Sends frames to every open connection of a user. A push is best effort: a closed connection is
 * forgotten, any other failure is logged, and neither fails the work that caused the push.
 */
export async function notifyUser(userId: string, frames: Frame[], correlationId: string): Promise<void> {
  const log = logger.child({ correlation_id: correlationId, user_id: userId });
  let connections: string[];
  try {
    connections = await connectionsOf(userId);
  } catch (error) {
    log.warn({ err: error }, "could not read connections; push skipped");
    return;
  }
  await Promise.all(
    connections.map(async (connectionId) => {
      try {
        for (const frame of frames) {
          if ((await pushFrame(connectionId, frame)) === "gone") {
            await removeConnection(connectionId);
            log.info({ connection_id: connectionId }, "closed connection removed");
            return;
          }
        }
      } catch (error) {
        log.warn({ err: error, connection_id: connectionId }, "push failed");
      }
    }),
  );
}
