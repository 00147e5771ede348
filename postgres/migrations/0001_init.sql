-- hookd schema for Postgres. Every object is created unqualified, in the
-- first schema of the connection's search_path, so one database can hold
-- several hookd installations (or one schema per test).
--
-- Ids use COLLATE "C" so that ordering by id is byte order (ULIDs sort by
-- time) whatever the database's default collation is.
--
-- Autovacuum: deliveries and attempts are high-churn tables (every claim,
-- completion and retention delete writes them). The defaults (vacuum after
-- 20% of the table changed) let a table of millions of rows bloat for a long
-- time, and bloat in deliveries_due slows claims. We set per-table storage
-- parameters below; see docs/postgres.md for the reasoning.

-- +goose Up
CREATE TABLE endpoints (
    id                    text COLLATE "C" PRIMARY KEY,
    tenant_id             text NOT NULL DEFAULT '',
    url                   text NOT NULL,
    description           text NOT NULL DEFAULT '',
    event_types           jsonb NOT NULL DEFAULT 'null',
    secret                text NOT NULL,
    previous_secrets      jsonb NOT NULL DEFAULT 'null',
    headers               jsonb NOT NULL DEFAULT 'null',
    max_attempts          integer NOT NULL DEFAULT 0,
    rate_limit_per_second double precision NOT NULL DEFAULT 0,
    max_in_flight         integer NOT NULL DEFAULT 0,
    disabled              boolean NOT NULL DEFAULT false,
    disabled_reason       text NOT NULL DEFAULT '',
    circuit_state         text NOT NULL DEFAULT 'closed',
    circuit_failures      integer NOT NULL DEFAULT 0,
    circuit_open_until    timestamptz,
    circuit_opens         integer NOT NULL DEFAULT 0,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, id);

CREATE TABLE events (
    id              text COLLATE "C" PRIMARY KEY,
    tenant_id       text NOT NULL DEFAULT '',
    type            text NOT NULL,
    -- bytea, not jsonb: the payload is kept byte for byte.
    payload         bytea NOT NULL,
    idempotency_key text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_type ON events (type, id);

CREATE TABLE deliveries (
    id               text COLLATE "C" PRIMARY KEY,
    event_id         text COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id      text COLLATE "C" NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    status           text NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    attempt_base     integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    lease_owner      text NOT NULL DEFAULT '',
    lease_expires_at timestamptz,
    last_status_code integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    UNIQUE (event_id, endpoint_id)
) WITH (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.02,
    fillfactor = 80
);
-- ClaimDue without a cap: oldest due first, pending rows only.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
-- ClaimDue with a cap: each endpoint's oldest pending rows.
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'pending';
-- The in-flight count per endpoint: unexpired leases on pending rows.
CREATE INDEX deliveries_in_flight ON deliveries (endpoint_id, lease_expires_at) WHERE status = 'pending' AND lease_expires_at IS NOT NULL;
-- Lists and deletes by endpoint; ReplayDead by endpoint and time of death.
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_status ON deliveries (status, id);
CREATE INDEX deliveries_dead ON deliveries (endpoint_id, updated_at) WHERE status = 'dead';

CREATE TABLE attempts (
    delivery_id   text COLLATE "C" NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number        integer NOT NULL,
    started_at    timestamptz NOT NULL,
    status_code   integer NOT NULL DEFAULT 0,
    latency_us    bigint NOT NULL DEFAULT 0,
    -- bytea: a cut response body need not be valid UTF-8.
    response_body bytea NOT NULL DEFAULT '',
    error         text NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, number)
) WITH (
    autovacuum_vacuum_scale_factor = 0.02,
    autovacuum_vacuum_insert_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.05
);

CREATE TABLE job_leases (
    job        text PRIMARY KEY,
    owner      text NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- +goose Down
DROP TABLE settings;
DROP TABLE job_leases;
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE endpoints;
