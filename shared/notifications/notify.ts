import type { Frame } from "../contract/frames.ts";
import { logger } from "../logger.ts";
import { connectionsOf, removeConnection } from "./connections.ts";
import { pushFrame } from "./push.ts";

export interface UserFrames {
  userId: string;
  frames: Frame[];
  correlationId: string;
}

/**
 * Sends each user's frames, in order, to every open connection of that user, after one look-up
 * of all their connections. A push is best effort: a closed connection is forgotten, any other
 * failure is logged, and neither fails the work that caused the push.
 */
export async function notifyUsers(pushes: UserFrames[]): Promise<void> {
  if (pushes.length === 0) return;
  let connections: Map<string, string[]>;
  try {
    connections = await connectionsOf(pushes.map((p) => p.userId));
  } catch (error) {
    logger.warn({ err: error, users: pushes.length }, "could not read connections; push skipped");
    return;
  }
  await Promise.all(
    pushes.flatMap(({ userId, frames, correlationId }) =>
      (connections.get(userId) ?? []).map(async (connectionId) => {
        const log = logger.child({ correlation_id: correlationId, user_id: userId, connection_id: connectionId });
        try {
          for (const frame of frames) {
            if ((await pushFrame(connectionId, frame)) === "gone") {
              await removeConnection(connectionId);
              log.info("closed connection removed");
              return;
            }
          }
        } catch (error) {
          log.warn({ err: error }, "push failed");
        }
      }),
    ),
  );
}
