-- pgbench's side of the outbox's cost: bench/upsert.sql, and in the same
-- statement the event a save records with it (as EventLog writes it: the
-- record's event_xid moved on, one row in events with the record as JSON).
-- The JSON is a constant the size of a stored prospect, its colons escaped
-- (\x3a) so that pgbench does not take them for variables. Needs migration 0004.
\set n random(1, 2000000000)
WITH p AS (
    INSERT INTO prospects (client_id, id, club_id, external_id, first_name, last_name, email, phone_mobile, notes)
    VALUES ('bench', gen_random_uuid(), 'c1', :prefix || '-' || :client_id || '-' || :n,
            'Ada', 'Lovelace', 'ada.lovelace@example.com', '+1 555 0100', 'visit ' || :n)
    ON CONFLICT (client_id, external_id) DO UPDATE
    SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, email = EXCLUDED.email,
        phone_mobile = EXCLUDED.phone_mobile, notes = EXCLUDED.notes,
        updated_at = now(), version = prospects.version + 1,
        event_xid = greatest(pg_current_xact_id(), prospects.event_xid)
    RETURNING client_id, id, club_id, version, event_xid
)
INSERT INTO events (client_id, pos_xid, occurred_at, id, type, club_id, record_id, version, data)
SELECT client_id, event_xid, now(), gen_random_uuid(),
       CASE WHEN version = 1 THEN 'prospect.created' ELSE 'prospect.updated' END, club_id, id, version,
       E'{"id"\x3a"8b0f8c1e-4f5a-4d59-9a51-0c7f6d2e9b31","clientId"\x3a"bench","clubId"\x3a"c1","externalId"\x3a"pgbench-1-123456789","firstName"\x3a"Ada","lastName"\x3a"Lovelace","email"\x3a"ada.lovelace@example.com","phones"\x3a{"mobile"\x3a"+1 555 0100","home"\x3anull,"work"\x3anull},"address"\x3anull,"birthDate"\x3anull,"gender"\x3anull,"leadSourceId"\x3anull,"staffOwnerId"\x3anull,"staffOwnerEmail"\x3anull,"notes"\x3a"visit 123456789","status"\x3a"open","memberId"\x3anull,"createdAt"\x3a"2026-12-06T05\x3a50\x3a00.123456Z","updatedAt"\x3a"2026-12-06T05\x3a50\x3a00.123456Z","version"\x3a1}'
FROM p;
