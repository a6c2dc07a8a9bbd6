import { contextOf, failSpan, startSpan, SpanKind, withSpan, type Span } from "./spans.ts";

interface TracedRecord {
  topic: string;
  partition: number;
  offset: number;
  headers: ReadonlyArray<{ name: string; value: Buffer }>;
}

/**
 * A consumer's span per record, each in the trace its `traceparent` header names: one batch holds
 * records of many orders, and each order's trace shows the handling of its own record. A span lasts
 * until the batch's outcome is known (committed, or left for the retry), across the transaction's
 * reruns within one invocation.
 */
export class RecordSpans<R extends TracedRecord> {
  private readonly spans = new Map<R, Span>();

  constructor(private readonly consumer: { functionName: string }) {}

  /** Runs `work` (synchronously started) inside the record's span. */
  run<T>(record: R, work: () => T): T {
    return withSpan(this.spanOf(record), work);
  }

  /** Ends every span: committed records' as ok, the others failed with `notCommitted`'s reason. */
  end(notCommitted: (record: R) => string | undefined): void {
    for (const [record, span] of this.spans) {
      const reason = notCommitted(record);
      if (reason) failSpan(span, new Error(reason));
      span.end();
    }
    this.spans.clear();
  }

  /** Ends every span as failed: the invocation failed as a whole. */
  fail(error: unknown): void {
    this.end(() => (error instanceof Error ? error.message : String(error)));
  }

  private spanOf(record: R): Span {
    let span = this.spans.get(record);
    if (!span) {
      span = startSpan(`process ${record.topic}`, {
        kind: SpanKind.CONSUMER,
        parent: contextOf(record.headers),
        attributes: {
          "messaging.system": "kafka",
          "messaging.operation.type": "process",
          "messaging.destination.name": record.topic,
          "messaging.destination.partition.id": String(record.partition),
          "messaging.kafka.offset": record.offset,
          "faas.name": this.consumer.functionName,
        },
      });
      this.spans.set(record, span);
    }
    return span;
  }
}
