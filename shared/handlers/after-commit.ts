import type { AfterCommit, Database } from "../after-commit.ts";
import type { Frame } from "../contract/frames.ts";
import { requestRelay } from "../messaging/relay-trigger.ts";
import { notifyUsers } from "../notifications/notify.ts";

/**
 * The one place where what a committed transaction asked for happens: relays are woken, frames
 * pushed. Each effect is best effort and never throws; what it would have done is either redone by
 * a safety net (the relay's schedule) or caught up by the page (a snapshot on reconnect).
 */
export async function carryOut(effects: AfterCommit[]): Promise<void> {
  // Per database, whether a relay was found running right behind the commit (undefined: not asked).
  const relays = new Map<Database, boolean | undefined>();
  // A batch often holds several changes of one user: their frames go out together, in order; one
  // look-up finds the connections of every user in the batch.
  const pushes = new Map<string, { frames: Frame[]; correlationId: string }>();
  for (const effect of effects) {
    if (effect.kind === "relay") relays.set(effect.database, effect.running);
    else {
      const push = pushes.get(effect.userId);
      if (push) push.frames.push(...effect.frames);
      else pushes.set(effect.userId, { frames: [...effect.frames], correlationId: effect.correlationId });
    }
  }
  await Promise.all([
    ...[...relays].map(([database, running]) => requestRelay(database, running)),
    notifyUsers([...pushes].map(([userId, push]) => ({ userId, ...push }))),
  ]);
}
