-- Tenants: a client is one organization (a club chain) turned up on the receiver.
-- Every table that belongs to a client has client_id as the first column of its
-- primary key and of its unique constraints, so one client's rows sit together
-- and the schema can be sharded by client (Citus distribution column).

CREATE TABLE clients (
    client_id   text        PRIMARY KEY
                            CHECK (client_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- The public address at which the Connector reaches the receiver for this client.
    connection  jsonb       NOT NULL,
    -- Custom options, validated by the server against the options it knows.
    options     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer     NOT NULL DEFAULT 1
);

-- One club per location; `enabled` is the per-club on/off toggle.
CREATE TABLE clubs (
    client_id   text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    club_id     text        NOT NULL CHECK (club_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, club_id)
);

-- The HTTP Basic credentials of a client. Passwords are stored only as a keyed
-- hash (`b2$<salt>$<hash>`). Usernames are `<client_id>.<random>`, so the
-- username alone finds its row by primary key. Rotation revokes the active
-- credential in the same transaction that issues the next: at most one is active.
CREATE TABLE credentials (
    client_id     text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    username      text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    PRIMARY KEY (client_id, username)
);
CREATE UNIQUE INDEX credentials_one_active_per_client ON credentials (client_id) WHERE revoked_at IS NULL;

-- Every admin change: who (admin token or CLI user), when, what changed, never a secret.
CREATE TABLE audit_events (
    client_id   text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL,
    action      text        NOT NULL,
    changes     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    request_id  text,
    PRIMARY KEY (client_id, id)
);
