-- Bumped by every balance change, so a reader of balance events can drop one older than what it has.
ALTER TABLE accounts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
