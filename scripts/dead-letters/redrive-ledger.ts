import type pg from "pg";
import { deadLetterTopic, TOPICS, type Topic } from "../../shared/contract/events.ts";
import type { Database } from "../../shared/contract/manifest.ts";
import { consumersOf } from "../../shared/contract/topology.ts";

/**
 * The redrive ledger: who sent which dead letter back, and when, in table `dead_letter_redrives`
 * (migrations/messaging/003_dead_letter_redrives.sql) of the database of the service that consumes
 * the letter's source topic: the payments database for orders.created.dlt, the orders database for
 * the other two. Why there, and not in a compacted topic: a claim is one INSERT that either wins or
 * finds the earlier redrive, even with two operators at once (a topic cannot refuse a second
 * writer); the ledger is kept, backed up and restored with the data whose charges it explains; and
 * on AWS it is the same RDS database the consumer uses, reached the same way (its URL and its
 * password secret), so nothing new has to be provisioned.
 *
 * A redrive is claimed first (a row), then the record is produced, then the row is marked sent
 * with where the broker put it. A tool that stops in between leaves a claim never marked sent: the
 * record may or may not have gone out, so `list` shows it as unconfirmed and sending it again takes
 * --force, as any second redrive does. Sending twice is safe for the money (every consumer drops an
 * event id it already handled); the ledger keeps it from happening by accident, and says who did.
 */

/** A dead letter's place: the ledger's key. */
export interface LetterPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface Redrive {
  attempt: number;
  by: string;
  claimedAt: Date;
  sentAt: Date | null;
  sentTo: string | null;
}

type Queryable = Pick<pg.Pool, "query">;

/** The source topic a dead-letter topic belongs to. */
function sourceTopicOf(dltTopic: string): Topic {
  const topic = (Object.keys(TOPICS) as Topic[]).find((t) => deadLetterTopic(t) === dltTopic);
  if (!topic) throw new Error(`${dltTopic} is not one of the shop's dead-letter topics`);
  return topic;
}

/** The database holding the ledger of `dltTopic`: its source topic's consumers', as the manifest gives it. */
export function ledgerDatabase(dltTopic: string): Database {
  const databases = [...new Set(consumersOf(sourceTopicOf(dltTopic)).map((consumer) => consumer.database))];
  if (databases.length !== 1)
    throw new Error(`the consumers of ${dltTopic}'s source topic do not share exactly one database`);
  return databases[0]!;
}

/**
 * Claims a redrive of the letter at `at` for `by`: the first one, or with `force` one more.
 * Returns the claim's attempt number, or the redrives already made when refused. One statement,
 * so two claims at once cannot both win the first attempt.
 */
export async function claimRedrive(
  pool: Queryable,
  at: LetterPosition,
  by: string,
  force: boolean,
): Promise<{ claimed: number } | { refused: Redrive[] }> {
  const { rows } = await pool.query<{ attempt: number }>(
    `INSERT INTO dead_letter_redrives (dlt_topic, dlt_partition, dlt_offset, attempt, redriven_by)
     SELECT $1, $2, $3, coalesce(max(attempt), 0) + 1, $4
       FROM dead_letter_redrives WHERE dlt_topic = $1 AND dlt_partition = $2 AND dlt_offset = $3
     HAVING count(*) = 0 OR $5::boolean
     ON CONFLICT DO NOTHING
     RETURNING attempt`,
    [at.topic, at.partition, at.offset, by, force],
  );
  if (rows[0]) return { claimed: rows[0].attempt };
  return { refused: (await redrivesOf(pool, at.topic)).get(positionKey(at)) ?? [] };
}

/** Marks a claimed redrive sent, with where the broker put the record. */
export async function markRedriveSent(pool: Queryable, at: LetterPosition, attempt: number, sentTo: string) {
  await pool.query(
    `UPDATE dead_letter_redrives SET sent_at = now(), sent_to = $5
      WHERE dlt_topic = $1 AND dlt_partition = $2 AND dlt_offset = $3 AND attempt = $4`,
    [at.topic, at.partition, at.offset, attempt, sentTo],
  );
}

/** `partition:offset`, as the tool names a letter. */
export const positionKey = (at: Pick<LetterPosition, "partition" | "offset">): string => `${at.partition}:${at.offset}`;

/** Every redrive of the letters of `dltTopic`, by `partition:offset`, oldest first. */
export async function redrivesOf(pool: Queryable, dltTopic: string): Promise<Map<string, Redrive[]>> {
  const { rows } = await pool.query<{
    dlt_partition: number;
    dlt_offset: string;
    attempt: number;
    redriven_by: string;
    claimed_at: Date;
    sent_at: Date | null;
    sent_to: string | null;
  }>(
    `SELECT dlt_partition, dlt_offset::text, attempt, redriven_by, claimed_at, sent_at, sent_to
       FROM dead_letter_redrives WHERE dlt_topic = $1 ORDER BY dlt_partition, dlt_offset, attempt`,
    [dltTopic],
  );
  const found = new Map<string, Redrive[]>();
  for (const r of rows) {
    const key = positionKey({ partition: r.dlt_partition, offset: r.dlt_offset });
    found.set(key, [
      ...(found.get(key) ?? []),
      { attempt: r.attempt, by: r.redriven_by, claimedAt: r.claimed_at, sentAt: r.sent_at, sentTo: r.sent_to },
    ]);
  }
  return found;
}

/** One line on a letter's redrives, for `list` and for a refusal. */
export function describeRedrives(redrives: Redrive[]): string {
  const last = redrives.at(-1);
  if (!last) return "";
  const times = redrives.length > 1 ? ` (${redrives.length} times)` : "";
  return last.sentAt
    ? `redriven${times} at ${last.sentAt.toISOString()} by ${last.by} -> ${last.sentTo}`
    : `redrive${times} claimed at ${last.claimedAt.toISOString()} by ${last.by}, never confirmed sent (it may or may not have gone out)`;
}
