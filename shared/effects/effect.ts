import type { Database } from "../contract/manifest.ts";
import type { Frame } from "../contract/frames.ts";
import type { CounterName } from "../metrics/catalog.ts";
import type { TraceCarrier } from "../tracing/spans.ts";

/**
 * What must happen once a transaction has committed, said as data by the code that made the change
 * (afterCommit, unit-of-work.ts) and carried out by the handler wrappers (handlers/carry-out.ts), never
 * before the commit and never inside the domain.
 */
export type Effect =
  /**
   * Rows wait in this database's outbox: the relay should publish them now, unless one is running
   * (`running`, when the commit already found out; otherwise it is asked).
   */
  | { kind: "relay"; database: Database; running?: boolean }
  /**
   * These frames go to every open socket of the user. `origin` is the trace context the change was
   * made in: the push is a span of the same trace.
   */
  | { kind: "push"; userId: string; frames: Frame[]; correlationId: string; origin?: TraceCarrier }
  /** A fact an operator counts (metrics/catalog.ts): counted once it has committed, never for a rollback. */
  | { kind: "count"; metric: CounterName };
