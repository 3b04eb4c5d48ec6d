-- The admin console (served at /admin/): its sign-in sessions, and each
-- client's connection health as the console shows it.

-- A signed-in console: the browser holds a random session token in an HttpOnly
-- cookie; only its BLAKE2b-256 digest (hex) is stored, so a copy of this table (a backup,
-- a replica) opens no session. Several instances share it, so a session made on
-- one is honoured by every other, and signing out on one ends it on all.
-- Expired rows are refused on sight and deleted at the next sign-in.
CREATE TABLE admin_sessions (
    token_hash  text        PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- The last successful and the last failed /v1 call of each client's Connector,
-- written from memory a few times a minute per instance (never once per call),
-- each instance keeping the later time of its own and the stored one.
CREATE TABLE client_call_health (
    client_id           text        PRIMARY KEY REFERENCES clients ON DELETE CASCADE,
    last_success_at     timestamptz,
    last_failure_at     timestamptz,
    last_failure_status integer     CHECK (last_failure_status BETWEEN 400 AND 599)
);
