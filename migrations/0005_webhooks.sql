-- Webhooks: a client's endpoints, and the deliveries of its events to them
-- (README "Webhooks"; ARCHITECTURE.md "Webhook delivery").
--
-- The path of an event: the change feed's events (0004) are fanned out to each
-- endpoint of the client in feed order, as rows of webhook_deliveries, in the
-- same transaction that moves the endpoint's position (webhook_positions); any
-- instance of serve then claims due deliveries, sends them, and records each
-- attempt in webhook_attempts and its outcome on the delivery.

-- An endpoint of a client: where its events go, and which ones.
CREATE TABLE webhook_endpoints (
    client_id       text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    -- A time-ordered UUID (RecordID), like reader credentials.
    id              uuid        NOT NULL,
    -- http or https only; the address it resolves to is checked when it is
    -- created and again at every connect (loopback, private and link-local
    -- addresses refused unless the server allows them).
    url             text        NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    description     text        CHECK (length(description) <= 500),
    -- Empty: every type; else only events of these types (ChangeFeed.types).
    event_types     text[]      NOT NULL DEFAULT '{}',
    -- Empty: every club; else only events of these clubs (an event without a
    -- club, of a lead source or a staff member, then does not match, as in the
    -- change feed's clubId filter).
    club_ids        text[]      NOT NULL DEFAULT '{}',
    enabled         boolean     NOT NULL DEFAULT true,
    -- Why it is disabled: 'admin' (an admin turned it off), 'gone' (it answered
    -- 410), 'failing' (every attempt failed for the auto-disable period).
    -- A disabled endpoint's events keep being fanned out (they wait as pending
    -- deliveries), so re-enabling it resumes from its first undelivered event.
    disabled_reason text        CHECK (disabled_reason IN ('admin', 'gone', 'failing')),
    disabled_at     timestamptz,
    -- Deliveries a second at most (per instance, see WebhookRateLimiter); null: none.
    rate_limit      integer     CHECK (rate_limit >= 1),
    -- The signing key, `whsec_` + base64 (WebhookSecret). Stored as it is: an
    -- HMAC needs the key itself, unlike a password, which is kept as a hash.
    secret          text        NOT NULL,
    -- After a rotation, the former key signs too until previous_secret_expires_at
    -- (24 hours), so receivers can switch over without losing a delivery.
    previous_secret text,
    previous_secret_expires_at timestamptz,
    -- When the last attempt that succeeded was made.
    last_success_at timestamptz,
    -- Since when every attempt has failed (the first failure after a success);
    -- null while the endpoint succeeds. Drives the warning and auto-disable.
    failing_since   timestamptz,
    -- When the auto-disable warning was recorded for the current failing period.
    warned_at       timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id),
    CHECK (enabled = (disabled_reason IS NULL)),
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE UNIQUE INDEX webhook_endpoints_id ON webhook_endpoints (id);

-- Each endpoint's position in its client's event stream, with the change
-- feed's meaning (FeedCursor): every event at or before (pos_xid, seq) has been
-- fanned out to the endpoint (or left out by its filters). Moved only in the
-- transaction that inserts the deliveries of the events it passes, so an event
-- is never skipped nor fanned out twice. A row apart from the endpoint's, so
-- that fan-out, which moves it often, never waits for an admin's change.
-- A new endpoint starts below the horizon of its creation: it gets the events
-- of every transaction that had not ended by then.
CREATE TABLE webhook_positions (
    client_id   text        NOT NULL,
    endpoint_id uuid        NOT NULL,
    pos_xid     xid8        NOT NULL,
    seq         bigint      NOT NULL,
    -- Microseconds since the epoch of the position (the change feed's cursor
    -- time: tells whether retention dropped events after it).
    micros      bigint      NOT NULL,
    PRIMARY KEY (client_id, endpoint_id),
    FOREIGN KEY (client_id, endpoint_id) REFERENCES webhook_endpoints ON DELETE CASCADE
);

-- One event to be delivered to one endpoint.
--
-- status:
--   'pending'   not delivered yet: waiting for its first attempt, or for its
--               next one after a failure (next_attempt_at), or for an endpoint
--               that is disabled or rate-limited. Also the state resend and
--               recover put a delivery back into.
--   'succeeded' an attempt got a 2xx.
--   'failed'    the retry schedule ran out without a 2xx. Kept: recover (or a
--               resend) makes it pending again with the schedule from the start.
--
-- A claim: an instance that is about to send a pending delivery sets
-- claimed_by to itself and claimed_until to now + the lease (SELECT … FOR UPDATE
-- SKIP LOCKED, so two instances never claim the same row). Until claimed_until
-- no other instance takes it; the claiming instance records the attempt's
-- outcome only while the claim is still its own (claimed_by), and never starts
-- a transfer whose claim may lapse before the transfer's timeout. A killed
-- instance's claims lapse and are taken over. Claims are cleared when the
-- outcome is recorded.
--
-- Per-record order: a pending delivery is claimed only when no pending delivery
-- of the same record to the same endpoint has a lower id (ids follow fan-out
-- order, which follows feed order, which keeps each record's versions in order).
--
-- The body is a copy of the event exactly as sent (FeedEvent.json, the change
-- feed's form), not a reference to the event: retention drops the events
-- table's whole days, and a delivery to an endpoint that is down or disabled
-- for longer must keep its event.
CREATE TABLE webhook_deliveries (
    client_id       text        NOT NULL,
    endpoint_id     uuid        NOT NULL,
    -- Fan-out order.
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    -- The event's id, the webhook-id of every attempt (as `evt_<uuid>`).
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    record_id       uuid        NOT NULL,
    -- When the event was recorded (its commit's time, near enough).
    occurred_at     timestamptz NOT NULL,
    body            text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    -- Attempts made so far (the attempt numbers of webhook_attempts).
    attempts        integer     NOT NULL DEFAULT 0,
    -- Failed attempts since the retry schedule (re)started: the schedule's step.
    -- resend and recover set it to 0.
    schedule_step   integer     NOT NULL DEFAULT 0,
    -- Not claimed before this (the schedule, Retry-After).
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_by      text,
    claimed_until   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- When it became succeeded or failed.
    finished_at     timestamptz,
    PRIMARY KEY (endpoint_id, id),
    FOREIGN KEY (client_id, endpoint_id) REFERENCES webhook_endpoints ON DELETE CASCADE
)
-- Room in each page for the claim's new row version: a claim changes no indexed
-- column, so with room it is a HOT update (no index entries written). A queue's
-- rows come and go fast: vacuum and fresh statistics far more often than the
-- defaults (20 % and 10 % of the table), so dead rows and stale plans never pile up.
WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);
-- One delivery per event and endpoint: what resend names (…/deliveries/{eventId}).
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (endpoint_id, event_id);
-- The claims' scan: each endpoint's pending deliveries by when they are due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'pending';
-- The per-record order check: the earliest pending delivery of a record. Its
-- predicate is spelled apart from the claims' index on purpose, and the check
-- spells it the same way, so that this is the only index the check can use:
-- with the statistics of a young table, the planner took the other one and read
-- every pending delivery of the endpoint for each candidate.
CREATE INDEX webhook_deliveries_record ON webhook_deliveries (endpoint_id, record_id, id) WHERE status NOT IN ('succeeded', 'failed');
-- No index on finished_at: deleting finished deliveries past their keeping time
-- scans the table every ten minutes, rather than every delivery writing an index entry.

-- Every attempt of a delivery: the delivery log.
CREATE TABLE webhook_attempts (
    endpoint_id uuid        NOT NULL,
    delivery_id bigint      NOT NULL,
    -- 1 for the first attempt, counting on through resends.
    attempt     integer     NOT NULL,
    -- When the request was started.
    at          timestamptz NOT NULL,
    -- The HTTP status of the answer; null when none came (refused address,
    -- connection failure, timeout).
    status      integer,
    latency_ms  integer     NOT NULL,
    -- Why it failed, for people; null on a 2xx.
    error       text,
    PRIMARY KEY (endpoint_id, delivery_id, attempt),
    FOREIGN KEY (endpoint_id, delivery_id) REFERENCES webhook_deliveries ON DELETE CASCADE
);
