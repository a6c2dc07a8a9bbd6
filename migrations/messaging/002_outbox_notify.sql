-- A relay that has drained its outbox waits for this instead of polling: every transaction that
-- writes outbox rows notifies once, at its commit (PostgreSQL folds repeats within a transaction).
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', '');
  RETURN NULL;
END $$;

CREATE TRIGGER outbox_written AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
