-- +goose Up
-- Times are INTEGER unix microseconds in UTC; 0 means "not set".
-- JSON columns hold arrays/objects encoded by package sqlite.

CREATE TABLE endpoints (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT    NOT NULL DEFAULT '',
    url                   TEXT    NOT NULL,
    description           TEXT    NOT NULL DEFAULT '',
    event_types           TEXT    NOT NULL DEFAULT '[]',
    secret                TEXT    NOT NULL,
    previous_secrets      TEXT    NOT NULL DEFAULT '[]',
    headers               TEXT    NOT NULL DEFAULT '{}',
    max_attempts          INTEGER NOT NULL DEFAULT 0,
    rate_limit_per_second REAL    NOT NULL DEFAULT 0,
    max_in_flight         INTEGER NOT NULL DEFAULT 0,
    disabled              INTEGER NOT NULL DEFAULT 0,
    disabled_reason       TEXT    NOT NULL DEFAULT '',
    circuit_state         TEXT    NOT NULL DEFAULT 'closed',
    circuit_failures      INTEGER NOT NULL DEFAULT 0,
    circuit_open_until    INTEGER NOT NULL DEFAULT 0,
    circuit_opens         INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, id);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT    NOT NULL DEFAULT '',
    type            TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    idempotency_key TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_type ON events (type, id);

CREATE TABLE deliveries (
    id               TEXT PRIMARY KEY,
    event_id         TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    endpoint_id      TEXT    NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    status           TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    attempt_base     INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    lease_owner      TEXT    NOT NULL DEFAULT '',
    lease_expires_at INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (event_id, endpoint_id)
);
-- The claim: pending deliveries in due order, overall and per endpoint.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'pending';
-- In-flight counts per endpoint (leased pending deliveries).
CREATE INDEX deliveries_leased ON deliveries (endpoint_id, lease_expires_at) WHERE status = 'pending' AND lease_owner <> '';
-- Lists and replay.
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_status ON deliveries (status, id);
CREATE INDEX deliveries_dead ON deliveries (endpoint_id, updated_at) WHERE status = 'dead';

CREATE TABLE attempts (
    delivery_id   TEXT    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    status_code   INTEGER NOT NULL DEFAULT 0,
    latency_us    INTEGER NOT NULL DEFAULT 0,
    response_body TEXT    NOT NULL DEFAULT '',
    error         TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;

CREATE TABLE job_leases (
    job        TEXT PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE settings;
DROP TABLE job_leases;
DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE endpoints;
