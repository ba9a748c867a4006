-- The outbox table of the seed, plus an index in the relay's claim order and
-- a trigger that wakes the relays (LISTEN outbox_event) at each insert.
CREATE TABLE outbox_event (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  aggregate_id text NOT NULL,
  event_type   text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX outbox_event_order ON outbox_event (created_at, id);

CREATE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_event', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_event_notify AFTER INSERT ON outbox_event
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify();

-- The business table of the example (order.go).
CREATE TABLE orders (
  id      text PRIMARY KEY,
  user_id text NOT NULL,
  amount  double precision NOT NULL
);
