-- pgbench's side of the durable-upsert comparison: the single-row upsert of a
-- prospect by (client_id, external_id) that a save amounts to, with the same
-- columns the benchmark's requests carry. :prefix is set by bench/run.py.
\set n random(1, 2000000000)
INSERT INTO prospects (client_id, id, club_id, external_id, first_name, last_name, email, phone_mobile, notes)
VALUES ('bench', gen_random_uuid(), 'c1', :prefix || '-' || :client_id || '-' || :n,
        'Ada', 'Lovelace', 'ada.lovelace@example.com', '+1 555 0100', 'visit ' || :n)
ON CONFLICT (client_id, external_id) DO UPDATE
SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, email = EXCLUDED.email,
    phone_mobile = EXCLUDED.phone_mobile, notes = EXCLUDED.notes,
    updated_at = now(), version = prospects.version + 1;
