-- Data at its real shape: many open sync errors, big clients, tables that grow.

-- Repeated rejections of one record are one open error: how many times it was
-- rejected, and when last. `occurred_at` stays the first time.
ALTER TABLE sync_errors
    ADD COLUMN rejections   integer     NOT NULL DEFAULT 1 CHECK (rejections >= 1),
    ADD COLUMN last_seen_at timestamptz;
UPDATE sync_errors SET last_seen_at = occurred_at;
ALTER TABLE sync_errors
    ALTER COLUMN last_seen_at SET NOT NULL,
    ALTER COLUMN last_seen_at SET DEFAULT now();

-- Open errors that the key below makes one are merged first: the oldest row
-- stays, counting the others, with the newest problem and request id.
WITH keyed AS (
    SELECT client_id, id, request_id, problem, occurred_at,
           first_value(id) OVER same AS kept,
           count(*) OVER same AS n,
           max(occurred_at) OVER same AS last_seen,
           row_number() OVER (PARTITION BY client_id, resource, operation, coalesce(external_id, ''),
                                   coalesce(record_id, '00000000-0000-0000-0000-000000000000'), problem->>'type'
                              ORDER BY occurred_at DESC, id DESC) AS newest
    FROM sync_errors
    WHERE resolved_at IS NULL AND (external_id IS NOT NULL OR record_id IS NOT NULL)
    WINDOW same AS (PARTITION BY client_id, resource, operation, coalesce(external_id, ''),
                        coalesce(record_id, '00000000-0000-0000-0000-000000000000'), problem->>'type'
                    ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
merged AS (
    UPDATE sync_errors e SET rejections = k.n, last_seen_at = k.last_seen, problem = k.problem, request_id = k.request_id
    FROM keyed k
    WHERE k.n > 1 AND k.newest = 1 AND e.client_id = k.client_id AND e.id = k.kept
)
DELETE FROM sync_errors e USING keyed k
WHERE e.client_id = k.client_id AND e.id = k.id AND k.id <> k.kept;

-- One open error per record, call and kind of problem: the record (its external
-- id, else its id), the operation (a save and a merge patch of one record are
-- different calls to fix) and the problem type (different faults of one call
-- are different things to fix; the same fault repeated is one). A rejection that
-- names no record at all keeps a row of its own: nothing says two are the same.
CREATE UNIQUE INDEX sync_errors_open_once ON sync_errors (
    client_id, resource, operation, coalesce(external_id, ''),
    coalesce(record_id, '00000000-0000-0000-0000-000000000000'), (problem->>'type'))
    WHERE resolved_at IS NULL AND (external_id IS NOT NULL OR record_id IS NOT NULL);

-- Every successful write resolves its record's open errors: by external id or
-- by record id, each an index lookup, however many errors the client has open.
CREATE INDEX sync_errors_open_external_id ON sync_errors (client_id, resource, external_id) WHERE resolved_at IS NULL;
CREATE INDEX sync_errors_open_record_id ON sync_errors (client_id, record_id) WHERE resolved_at IS NULL;

-- Retention deletes what is past its time, oldest first, in bounded batches.
CREATE INDEX sync_errors_resolved ON sync_errors (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX audit_events_occurred ON audit_events (occurred_at);

-- Lists filtered by club page by (updated_at, id) within the club.
CREATE INDEX prospects_club_updated ON prospects (client_id, club_id, updated_at, id);
CREATE INDEX members_club_updated ON members (client_id, club_id, updated_at, id);
