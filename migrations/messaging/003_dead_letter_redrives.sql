-- The redrive ledger of `npm run dead-letters` (scripts/dead-letters/redrive-ledger.ts): one row per
-- redrive of a dead letter, keyed by where the letter sits (its dead-letter topic, partition and
-- offset: a position Kafka never gives another record). It lives in the database of the service
-- that consumes the letter's source topic. A row is written before the record is sent back and
-- marked sent once the broker has acknowledged it; a row never marked sent is a redrive that may or
-- may not have gone out, so sending the letter again takes --force, as does any second redrive.
CREATE TABLE dead_letter_redrives (
  dlt_topic     TEXT NOT NULL,
  dlt_partition INT NOT NULL,
  dlt_offset    BIGINT NOT NULL,
  attempt       INT NOT NULL,
  redriven_by   TEXT NOT NULL,
  claimed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  sent_at       TIMESTAMPTZ,
  -- Where the broker put the record sent back: "<topic>-<partition>@<offset>".
  sent_to       TEXT,
  PRIMARY KEY (dlt_topic, dlt_partition, dlt_offset, attempt)
);
