import type { Frame } from "../contract/frames.ts";
import { logger } from "../logger.ts";
import { countMetric } from "../metrics/emit.ts";
import { contextOf, failSpan, startSpan, SpanKind, withSpan, type TraceCarrier } from "../tracing/spans.ts";
import { connectionsOf, removeConnection } from "./connections.ts";
import { pushFrame } from "./push.ts";

/** A committed change the user hears of: its frames, its order, and the trace it was made in. */
export interface Change {
  frames: Frame[];
  correlationId: string;
  origin?: TraceCarrier;
}

/** A user's changes, in commit order: their frames go out together. */
export interface UserFrames {
  userId: string;
  changes: Change[];
}

/**
 * Sends each user's frames, in order, to every open connection of that user, after one look-up
 * of all their connections. A push is best effort: a closed connection is forgotten, any other
 * failure is logged, and neither fails the work that caused the push. Each change's push is a span
 * of that change's trace, and logged with its order.
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
  await Promise.all(pushes.map((push) => pushToUser(push, connections.get(push.userId) ?? [])));
}

async function pushToUser({ userId, changes }: UserFrames, connectionIds: string[]): Promise<void> {
  const pushed = changes.map((change) => ({
    change,
    span: startSpan(`push ${change.frames.map((f) => f.type).join(", ")}`, {
      kind: SpanKind.PRODUCER,
      parent: contextOf(change.origin),
      attributes: {
        "user.id": userId,
        "order.id": change.correlationId,
        "websocket.frames": change.frames.length,
        "websocket.connections": connectionIds.length,
      },
    }),
  }));
  const frames = changes.flatMap((change) => change.frames);
  const log = logger.child({ user_id: userId });
  let failure: unknown;
  await Promise.all(
    connectionIds.map(async (connectionId) => {
      try {
        for (const frame of frames) {
          if ((await pushFrame(connectionId, frame)) === "gone") {
            await removeConnection(connectionId);
            log.info({ connection_id: connectionId }, "closed connection removed");
            return;
          }
          countMetric("PushesSent");
        }
      } catch (error) {
        failure = error;
        countMetric("PushesFailed");
        log.warn({ err: error, connection_id: connectionId }, "push failed");
      }
    }),
  );
  for (const { change, span } of pushed) {
    withSpan(span, () =>
      log.info(
        { correlation_id: change.correlationId, frames: change.frames.length, connections: connectionIds.length },
        "frames pushed",
      ),
    );
    if (failure !== undefined) failSpan(span, failure);
    span.end();
  }
}
