import type { AfterCommit } from "../after-commit.ts";
import { requestRelay } from "../messaging/relay-trigger.ts";
import { notifyUser } from "../notifications/notify.ts";

/**
 * The one place where what a committed transaction asked for happens: relays are woken, frames
 * pushed. Each effect is best effort and never throws; what it would have done is either redone by
 * a safety net (the relay's schedule) or caught up by the page (a snapshot on reconnect).
 */
export async function carryOut(effects: AfterCommit[]): Promise<void> {
  await Promise.all(
    effects.map((effect) => {
      switch (effect.kind) {
        case "relay":
          return requestRelay(effect.database);
        case "push":
          return notifyUser(effect.userId, effect.frames, effect.correlationId);
      }
    }),
  );
}
