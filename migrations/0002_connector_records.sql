-- The records the Connector sends and reads. Record ids are UUIDs assigned by
-- the server; every key starts with client_id (see 0001).

CREATE TABLE lead_sources (
    client_id   text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    id          uuid        NOT NULL,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    external_id text,
    active      boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id)
);
-- Names are unique per client, case-insensitively.
CREATE UNIQUE INDEX lead_sources_client_name ON lead_sources (client_id, lower(name));

CREATE TABLE staff (
    client_id   text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    id          uuid        NOT NULL,
    email       text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    first_name  text,
    last_name   text,
    role        text,
    active      boolean     NOT NULL DEFAULT true,
    club_ids    text[]      NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id)
);
-- The Connector matches a prospect's staff owner by email: unique per client, case-insensitively.
CREATE UNIQUE INDEX staff_client_email ON staff (client_id, lower(email));

CREATE TABLE prospects (
    client_id           text        NOT NULL,
    id                  uuid        NOT NULL,
    club_id             text        NOT NULL,
    external_id         text,
    first_name          text,
    last_name           text,
    email               text,
    phone_mobile        text,
    phone_home          text,
    phone_work          text,
    address_line1       text,
    address_line2       text,
    address_city        text,
    address_region      text,
    address_postal_code text,
    address_country     text        CHECK (address_country ~ '^[A-Z]{2}$'),
    birth_date          date,
    gender              text        CHECK (gender IN ('female', 'male', 'other', 'unspecified')),
    lead_source_id      uuid,
    staff_owner_email   text,
    notes               text,
    status              text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'converted', 'lost')),
    member_id           uuid,
    -- Digits of the mobile number, for matching on save.
    mobile_digits       text        GENERATED ALWAYS AS (nullif(regexp_replace(phone_mobile, '\D', '', 'g'), '')) STORED,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id),
    UNIQUE (client_id, external_id),
    FOREIGN KEY (client_id, club_id) REFERENCES clubs (client_id, club_id),
    FOREIGN KEY (client_id, lead_source_id) REFERENCES lead_sources (client_id, id),
    CHECK (first_name IS NOT NULL OR last_name IS NOT NULL)
);
CREATE INDEX prospects_updated ON prospects (client_id, updated_at, id);
CREATE INDEX prospects_email ON prospects (client_id, lower(email));
-- Smart matching looks only at records without an external id, by name first.
CREATE INDEX prospects_match ON prospects (client_id, lower(first_name), lower(last_name)) WHERE external_id IS NULL;

CREATE TABLE members (
    client_id           text        NOT NULL,
    id                  uuid        NOT NULL,
    club_id             text        NOT NULL,
    external_id         text,
    first_name          text,
    last_name           text,
    email               text,
    phone_mobile        text,
    phone_home          text,
    phone_work          text,
    address_line1       text,
    address_line2       text,
    address_city        text,
    address_region      text,
    address_postal_code text,
    address_country     text        CHECK (address_country ~ '^[A-Z]{2}$'),
    birth_date          date,
    gender              text        CHECK (gender IN ('female', 'male', 'other', 'unspecified')),
    notes               text,
    member_number       text,
    membership_type     text,
    membership_status   text        CHECK (membership_status IN ('active', 'frozen', 'cancelled', 'expired')),
    join_date           date,
    expiry_date         date,
    prospect_id         uuid,
    mobile_digits       text        GENERATED ALWAYS AS (nullif(regexp_replace(phone_mobile, '\D', '', 'g'), '')) STORED,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    version             integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (client_id, id),
    UNIQUE (client_id, external_id),
    -- A prospect converts into at most one member.
    UNIQUE (client_id, prospect_id),
    FOREIGN KEY (client_id, club_id) REFERENCES clubs (client_id, club_id),
    FOREIGN KEY (client_id, prospect_id) REFERENCES prospects (client_id, id),
    CHECK (first_name IS NOT NULL OR last_name IS NOT NULL)
);
CREATE INDEX members_updated ON members (client_id, updated_at, id);
CREATE INDEX members_email ON members (client_id, lower(email));
CREATE INDEX members_match ON members (client_id, lower(first_name), lower(last_name)) WHERE external_id IS NULL;

ALTER TABLE prospects ADD FOREIGN KEY (client_id, member_id) REFERENCES members (client_id, id);

-- Idempotency-Key: the first response to a POST, stored in the same transaction
-- as its effect, returned again for a retry with the same key and body.
CREATE TABLE idempotency_keys (
    client_id        text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    key              text        NOT NULL,
    operation        text        NOT NULL,
    -- Hex BLAKE2b-256 of the request (method, path, body), to tell a retry from a different request.
    request_hash     text        NOT NULL,
    response_status  integer     NOT NULL,
    response_headers jsonb       NOT NULL DEFAULT '{}'::jsonb,
    response_body    text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Rejected /v1 writes, shown to admins until a later successful write of the
-- same record resolves them.
CREATE TABLE sync_errors (
    client_id   text        NOT NULL REFERENCES clients ON DELETE CASCADE,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    operation   text        NOT NULL,
    resource    text        NOT NULL,
    external_id text,
    record_id   uuid,
    request_id  text,
    problem     jsonb       NOT NULL,
    resolved_at timestamptz,
    PRIMARY KEY (client_id, id)
);
CREATE INDEX sync_errors_open ON sync_errors (client_id, id) WHERE resolved_at IS NULL;
