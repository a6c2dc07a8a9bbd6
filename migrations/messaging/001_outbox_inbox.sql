-- Rows are claimed while unpublished (published_at IS NULL), never through a cursor on id:
-- identity values are taken before commit, so a cursor would skip a late-committing row forever.
-- A row holds the Kafka record as bytes, so a dead-lettered record keeps its exact key and value.
CREATE TABLE outbox (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id       UUID NOT NULL UNIQUE,
  topic          TEXT NOT NULL,
  record_key     BYTEA,
  record_value   BYTEA NOT NULL,
  -- [{"name": ..., "value": <base64>}], in order; a name may repeat, as Kafka allows.
  record_headers JSONB NOT NULL DEFAULT '[]',
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  published_at   TIMESTAMPTZ,
  -- A row the broker refused is set aside with its error, so the rows behind it keep flowing.
  attempts       INT NOT NULL DEFAULT 0,
  last_error     TEXT,
  parked_at      TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX outbox_parked ON outbox (parked_at) WHERE parked_at IS NOT NULL;

-- One row per consumed event: inserted first in the handling transaction, so a redelivery is a no-op.
CREATE TABLE inbox (
  event_id    UUID PRIMARY KEY,
  topic       TEXT NOT NULL,
  received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX inbox_received_at ON inbox (received_at);

-- Replays the first answer to a repeated Idempotency-Key; the request hash tells a retry from a misuse.
CREATE TABLE idempotency_keys (
  scope           TEXT NOT NULL,
  key             TEXT NOT NULL,
  request_hash    TEXT NOT NULL,
  result          JSONB,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
