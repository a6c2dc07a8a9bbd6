/**
 * The event that only loads a function: the one serverless-plugin-warmup sends and @middy/warmup
 * recognises, so the same tools keep functions warm on AWS. Every handler wrapper answers it before
 * any work (invocations.ts); the local start command sends it to each function before it says the
 * shop is ready, so the first requests find their code loaded instead of loading it on the event
 * loop that serves them.
 */
export const WARM_UP_EVENT = { source: "serverless-plugin-warmup" } as const;

/** What a function answers the warm-up event with. */
export const WARMED = "warmed";

export function isWarmUp(event: unknown): boolean {
  return (event as { source?: unknown } | null)?.source === WARM_UP_EVENT.source;
}
