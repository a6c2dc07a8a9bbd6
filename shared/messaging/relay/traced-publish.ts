import type pg from "pg";
import { logger } from "../../logger.ts";
import {
  carrierOfSpan,
  contextOf,
  failSpan,
  isTraceHeader,
  startSpan,
  SpanKind,
  withSpan,
  type Span,
} from "../../tracing/spans.ts";
import type { OutboundRecord, Publisher } from "../publisher.ts";
import { publishOrPark, type Published, type Send } from "./publish-or-park.ts";
import { recordOf, type UnpublishedRow } from "./unpublished-rows.ts";

interface TracedSend extends Send {
  span: Span;
}

/**
 * publishOrPark, each row in its producer span: a child of the trace the row was written in (not
 * the relay's: one run publishes rows of many orders), whose `traceparent` the record carries on.
 * A published record is logged in its span, with its order's correlation id.
 */
export async function publishTraced(
  client: pg.PoolClient,
  publisher: Publisher,
  rows: UnpublishedRow[],
): Promise<Published> {
  const sends = rows.map(producerSpanOf);
  const parked = new Set<TracedSend>();
  try {
    const outcome = await publishOrPark(client, publisher, sends, parked);
    for (const send of sends) {
      if (parked.has(send)) failSpan(send.span, new Error("refused by the broker; parked"));
      else
        withSpan(send.span, () =>
          logger.info(
            { correlation_id: correlationIdOf(send.record), topic: send.row.topic, outbox_id: send.row.id },
            "record published",
          ),
        );
    }
    return outcome;
  } catch (error) {
    for (const send of sends) failSpan(send.span, error);
    throw error;
  } finally {
    for (const send of sends) send.span.end();
  }
}

function producerSpanOf(row: UnpublishedRow): TracedSend {
  const record = recordOf(row);
  const span = startSpan(`send ${row.topic}`, {
    kind: SpanKind.PRODUCER,
    parent: contextOf(record.headers),
    attributes: {
      "messaging.system": "kafka",
      "messaging.operation.type": "send",
      "messaging.destination.name": row.topic,
      "outbox.id": row.id,
    },
  });
  const carried = Object.entries(carrierOfSpan(span)).map(([name, value]) => ({ name, value: Buffer.from(value) }));
  return {
    row,
    record: { ...record, headers: [...record.headers.filter((h) => !isTraceHeader(h.name)), ...carried] },
    span,
  };
}

const correlationIdOf = (record: OutboundRecord) =>
  record.headers.find((h) => h.name === "correlation_id")?.value.toString();
