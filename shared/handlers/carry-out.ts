import { coalesceFrames } from "../contract/frames.ts";
import type { Database } from "../contract/manifest.ts";
import { requestRelay } from "../messaging/relay-trigger.ts";
import { notifyUsers, type Change } from "../notifications/notify.ts";
import type { Effect } from "../effects/effect.ts";
import { countMetric } from "../metrics/emit.ts";

/**
 * The one place where what committed transactions asked for happens: relays are woken (once per
 * database, however many transactions wrote to its outbox), frames pushed, facts counted. Each effect is best
 * effort and never throws; what it would have done is either redone by a safety net (the relay's
 * schedule) or caught up by the page (a snapshot on reconnect).
 */
export async function carryOut(effects: Effect[]): Promise<void> {
  if (effects.length === 0) return;
  // Per database, whether a relay was found running right behind the commit (undefined: not asked).
  const relays = new Map<Database, boolean | undefined>();
  // A batch often holds several changes of one user: their frames go out together, in order; one
  // look-up finds the connections of every user in the batch.
  const pushes = new Map<string, Change[]>();
  for (const effect of effects) {
    if (effect.kind === "relay") relays.set(effect.database, effect.running);
    else if (effect.kind === "count") countMetric(effect.metric);
    else {
      // Frames of one change (an order and the balance it left) go out as one (coalesceFrames).
      const { frames, correlationId, origin } = effect;
      const changes = pushes.get(effect.userId) ?? [];
      const same = changes.find((change) => change.correlationId === correlationId);
      if (same) same.frames = coalesceFrames([...same.frames, ...frames]);
      else changes.push({ frames, correlationId, origin });
      pushes.set(effect.userId, changes);
    }
  }
  await Promise.all([
    ...[...relays].map(([database, running]) => requestRelay(database, running)),
    notifyUsers([...pushes].map(([userId, changes]) => ({ userId, changes }))),
  ]);
}
