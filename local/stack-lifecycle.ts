import type { Supervisor } from "./core/supervisor.ts";
import { timed, type Layer } from "./stack-parts.ts";

// The order in which a stack's parts come up, and go down again.

/**
 * The infrastructure all at once, each layer followed at once by what needs it; then serverless-offline
 * and the front, one after the other. serverless-offline needs the databases migrated and the user
 * pool before it launches, so the functions never meet an unmigrated database; the broker it waits
 * for itself (its event source for its topics, its health check for the broker), so its start, the
 * slowest, overlaps the broker's instead of following it. Resolves once every layer serves.
 */
export async function bringUp(
  infrastructure: Layer[],
  serving: Array<Layer & { supervisor: Supervisor }>,
  progress: (line: string) => void,
): Promise<void> {
  const up = infrastructure.map(({ supervisor, what, followedBy }) =>
    (supervisor ? timed(progress, what, () => supervisor.start()) : Promise.resolve()).then(followedBy),
  );
  for (const layer of up) layer.catch(() => undefined); // awaited below; a failure is not unhandled meanwhile
  await Promise.all(up.filter((_, i) => !infrastructure[i]!.servingWaitsForIt));
  for (const { supervisor, what } of serving) await timed(progress, what, () => supervisor.start());
  await Promise.all(up);
}

/**
 * Waits for the start-up, and rejects as soon as it fails, `signal` aborts it, or a part that could
 * not be brought back ended the stack (`failed`).
 */
export async function untilStarted(
  started: Promise<void>,
  signal: AbortSignal | undefined,
  failed: Promise<Error>,
): Promise<void> {
  started.catch(() => undefined); // a start-up given up on still fails later, with nobody listening
  const aborted = new Promise<never>((_, reject) => {
    const abort = () => reject(new Error("start-up interrupted"));
    if (signal?.aborted) abort();
    signal?.addEventListener("abort", abort, { once: true });
  });
  aborted.catch(() => undefined); // an abort after start-up is no one's concern
  await Promise.race([started, aborted, failed.then((error) => Promise.reject(error))]);
}

/**
 * What serves requests stops first (the page, the front, then serverless-offline and its
 * consumers), the infrastructure under it and the background parts last, all at once, then the
 * OTLP bridge. A failure is told and the rest still stopped.
 */
export async function stopInOrder(
  stack: {
    frontend: { stop(): Promise<void> } | undefined;
    serving: Array<{ supervisor: Supervisor }>;
    infrastructure: Layer[];
    background: Array<Supervisor | undefined>;
    bridge: { stop(): Promise<void> } | undefined;
  },
  progress: (line: string) => void,
): Promise<void> {
  const safely = (undo: () => Promise<void> | undefined) =>
    Promise.resolve(undo()).catch((error: unknown) => progress(`! while stopping: ${String(error)}`));
  await safely(() => stack.frontend?.stop());
  for (const { supervisor } of stack.serving.toReversed()) await safely(() => supervisor.stop());
  await Promise.all(
    [...stack.infrastructure.map((layer) => layer.supervisor), ...stack.background].map((supervisor) =>
      safely(() => supervisor?.stop()),
    ),
  );
  await safely(() => stack.bridge?.stop());
}
