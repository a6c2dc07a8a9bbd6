import type pg from "pg";
import { RecordsRefused, type OutboundRecord, type Publisher } from "../publisher.ts";
import { markRowsPublished } from "./mark-rows-published.ts";
import { parkRow } from "./park-row.ts";
import type { UnpublishedRow } from "./unpublished-rows.ts";

/** A row and the record it goes out as. */
export interface Send {
  row: UnpublishedRow;
  record: OutboundRecord;
}

export interface Published {
  published: number;
  parked: number;
}

/**
 * Publishes the rows as one batch. If the broker refuses the batch, the rows go one at a time, in
 * order, to find the refused ones; those are parked (and added to `parked`) and the others published.
 * Any other failure (the broker unavailable) is thrown, with nothing marked.
 */
export async function publishOrPark<S extends Send>(
  client: pg.PoolClient,
  publisher: Publisher,
  sends: S[],
  parked: Set<S>,
): Promise<Published> {
  try {
    await publisher.publish(sends.map((send) => send.record));
    await markRowsPublished(
      client,
      sends.map((send) => send.row.id),
    );
    return { published: sends.length, parked: 0 };
  } catch (error) {
    if (!(error instanceof RecordsRefused)) throw error;
    if (sends.length === 1) {
      await parkRow(client, sends[0]!.row, error.reason);
      parked.add(sends[0]!);
      return { published: 0, parked: 1 };
    }
    const total = { published: 0, parked: 0 };
    for (const send of sends) {
      const one = await publishOrPark(client, publisher, [send], parked);
      total.published += one.published;
      total.parked += one.parked;
    }
    return total;
  }
}
