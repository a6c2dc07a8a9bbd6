import type { Frame } from "./contract/frames.ts";
import type { TraceCarrier } from "./tracing/spans.ts";

/** The two databases, each with its own outbox and relay. */
export type Database = "orders" | "payments";

/**
 * What must happen once a transaction has committed, said as data by the code that made the change
 * and carried out in one place (shared/handlers/after-commit.ts), never before the commit and
 * never inside the domain.
 */
export type AfterCommit =
  /**
   * Rows wait in this database's outbox: the relay should publish them now, unless one is running
   * (`running`, when the commit already found out; otherwise it is asked).
   */
  | { kind: "relay"; database: Database; running?: boolean }
  /**
   * These frames go to every open socket of the user. `origin`, the trace context the change was
   * made in, is added by the transaction: the push is a span of the same trace.
   */
  | { kind: "push"; userId: string; frames: Frame[]; correlationId: string; origin?: TraceCarrier };
