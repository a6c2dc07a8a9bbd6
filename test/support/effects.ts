import type { Effect } from "../../shared/effects/effect.ts";
import { inUnitOfWork } from "../../shared/effects/unit-of-work.ts";

/** Runs `work` as a handler wrapper would, and hands back what it committed to happen after, instead of doing it. */
export async function withEffects<T>(work: () => Promise<T>): Promise<{ result: T; after: Effect[] }> {
  let after: Effect[] = [];
  const result = await inUnitOfWork(work, async (effects) => void (after = effects));
  return { result, after };
}
