-- pgbench's side of the read comparison: one prospect by a unique key of the
-- client, with the columns GET /v1/prospects/{id} reads (the record, its staff
-- owner's id, its updated time in microseconds). bench/run.py runs it prepared
-- (-M prepared). The key is (client_id, external_id), a unique index like the
-- primary key (client_id, id) the server reads by: pgbench cannot draw one of the
-- random ids the server gave the 1,000 prospects, but it can draw their external
-- ids (repeat-1 … repeat-1000). Both are one descent of a two-column unique
-- B-tree and one heap fetch.
\set n random(1, 1000)
SELECT p.*, staff_id_by_email(p.client_id, p.staff_owner_email) AS staff_owner_id,
       (extract(epoch FROM p.updated_at) * 1000000)::bigint AS updated_micros
FROM prospects p WHERE p.client_id = 'bench' AND p.external_id = 'repeat-' || :n;
