import { AsyncLocalStorage } from "node:async_hooks";
import type { AtCommit, Probe } from "../db/transaction.ts";
import { carrierOf } from "../tracing/spans.ts";
import type { Effect } from "./effect.ts";

/**
 * The effects committed during one invocation, collected here and carried out by the wrapper that
 * opened the unit of work (every handler wrapper does, see handlers/invocations.ts) before the
 * invocation ends: a handler has nothing to pass on, so nothing it can forget.
 */
const unit = new AsyncLocalStorage<Effect[]>();

/**
 * Runs `work` as a unit of work; `carryOut` then gets every effect its transactions committed,
 * also when `work` failed afterwards (what committed has happened).
 */
export async function inUnitOfWork<T>(
  work: () => Promise<T>,
  carryOut: (effects: Effect[]) => Promise<void>,
): Promise<T> {
  const effects: Effect[] = [];
  try {
    return await unit.run(effects, work);
  } finally {
    await carryOut(effects);
  }
}

/**
 * An effect asked for where no unit of work is under way. Nothing would carry it out: a relay
 * left asleep, a push never sent, without a word. Thrown when it is asked for, inside the
 * transaction, which then rolls back instead of committing a change whose effect is lost.
 */
export class EffectOutsideUnitOfWork extends Error {
  constructor(readonly effect: Effect) {
    super(
      `${describeEffect(effect)} was asked for outside a unit of work, where nothing would carry it out: ` +
        "run this code in a handler wrapper (handlers/invocations.ts) or inside inUnitOfWork",
    );
    this.name = "EffectOutsideUnitOfWork";
  }
}

function describeEffect(effect: Effect): string {
  if (effect.kind === "relay") return `Waking the ${effect.database} relay`;
  if (effect.kind === "count") return `Counting ${effect.metric}`;
  const frames = effect.frames.map((frame) => frame.type).join(", ");
  return `Pushing ${frames} to user ${effect.userId} (correlation id ${effect.correlationId})`;
}

/** The effects of the unit of work under way; `named` makes the effect only to name it in the error. */
function unitUnderWay(named: () => Effect): Effect[] {
  const effects = unit.getStore();
  if (!effects) throw new EffectOutsideUnitOfWork(named());
  return effects;
}

/** Records an effect for the unit of work under way, to be carried out with the others. */
export function recordEffect(effect: Effect): void {
  unitUnderWay(() => effect).push(effect);
}

/**
 * Asks for `effect` once `tx` has committed. With `probe`, a question sent right behind COMMIT in
 * its round trip, `effect` is made from its answer (undefined when it went unanswered).
 */
export function afterCommit(tx: AtCommit, effect: Effect): void;
export function afterCommit<R>(tx: AtCommit, effect: (answer: R | undefined) => Effect, probe: Probe<R>): void;
export function afterCommit<R>(
  tx: AtCommit,
  effect: Effect | ((answer: R | undefined) => Effect),
  probe?: Probe<R>,
): void {
  const effects = unitUnderWay(() => (typeof effect === "function" ? effect(undefined) : effect));
  // The trace is the one the change was made in, not the one active when the commit is answered.
  const origin = carrierOf();
  const withOrigin = (made: Effect): Effect => (made.kind === "push" && !made.origin ? { ...made, origin } : made);
  if (typeof effect === "function") tx.onCommit<R>((answer) => void effects.push(withOrigin(effect(answer))), probe!);
  else tx.onCommit(() => void effects.push(withOrigin(effect)));
}
