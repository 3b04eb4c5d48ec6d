-- The read side for club systems: every change to a client's records is an
-- event, written in the same transaction as the change (a transactional
-- outbox), read in order through the change feed (GET /v1/changes).
--
-- Where an event stands in the feed: (pos_xid, seq). pos_xid is the writing
-- transaction's id (pg_current_xact_id), raised to the previous event of the same
-- record where that is higher; seq comes from a sequence, taken when the event
-- is inserted. A reader reads only below the oldest running transaction
-- (pg_snapshot_xmin of its snapshot): every transaction with a lower id has
-- ended, and an event yet to commit has a pos_xid at least its own
-- transaction's id, so nothing can ever appear behind what was read
-- (README, "The change feed"). A record's events come in the order of its
-- versions: a record is written under its row lock, so each event of it is
-- inserted after the previous one committed, with a higher seq and a pos_xid
-- no lower (each record keeps the pos_xid of its last event in event_xid).
ALTER TABLE prospects    ADD COLUMN event_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE members      ADD COLUMN event_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE lead_sources ADD COLUMN event_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE staff        ADD COLUMN event_xid xid8 NOT NULL DEFAULT pg_current_xact_id();

-- CACHE 1 (the default): values are handed out in the order they are asked
-- for, across sessions, which the per-record order relies on.
CREATE SEQUENCE event_seq CACHE 1;

-- Partitioned by day on occurred_at, so that retention drops whole partitions
-- (the serve process creates them ahead and drops the expired ones); the
-- default partition only catches a clock far off the created range.
CREATE TABLE events (
    client_id   text        NOT NULL,
    pos_xid     xid8        NOT NULL,
    seq         bigint      NOT NULL DEFAULT nextval('event_seq'),
    occurred_at timestamptz NOT NULL,
    id          uuid        NOT NULL,
    type        text        NOT NULL,
    club_id     text,
    record_id   uuid        NOT NULL,
    version     integer     NOT NULL,
    -- The record exactly as GET returns it after the change (JSON text).
    data        text        NOT NULL,
    PRIMARY KEY (client_id, pos_xid, seq, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- The start of what retention keeps: a cursor from before it is expired (410).
CREATE TABLE event_retention (
    singleton     boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    purged_before timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO event_retention DEFAULT VALUES;

-- Today's partition and the week ahead; serve keeps them coming.
DO $$
DECLARE
    day date;
BEGIN
    FOR day IN SELECT generate_series(current_date - 1, current_date + 7, interval '1 day')::date LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                       'events_' || to_char(day, 'YYYYMMDD'), day::timestamptz, (day + 1)::timestamptz);
    END LOOP;
END
$$;

-- Reader credentials: read-only HTTP Basic credentials of club systems, beside
-- the Connector's one read-write credential. Same table, same keyed hash.
ALTER TABLE credentials ADD COLUMN role text NOT NULL DEFAULT 'connector' CHECK (role IN ('connector', 'reader'));
ALTER TABLE credentials ADD COLUMN id uuid;
ALTER TABLE credentials ADD COLUMN label text CHECK (length(label) <= 200);
ALTER TABLE credentials ADD COLUMN last_used_at timestamptz;
DROP INDEX credentials_one_active_per_client;
CREATE UNIQUE INDEX credentials_one_active_per_client ON credentials (client_id) WHERE revoked_at IS NULL AND role = 'connector';
CREATE UNIQUE INDEX credentials_reader_id ON credentials (client_id, id) WHERE role = 'reader';
