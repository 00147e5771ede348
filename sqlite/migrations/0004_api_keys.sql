-- API keys and dashboard sessions (hookd.APIKey): only the SHA-256 of the
-- secret is stored, looked up through its unique index. tenant_id is NULL
-- for admin keys. Times are unix microseconds, 0 = not set. api_buckets
-- are the API rate-limit token buckets (Store.TakeTokens).

-- +goose Up
CREATE TABLE api_keys (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT    NOT NULL DEFAULT 'key',
    name                  TEXT    NOT NULL DEFAULT '',
    tenant_id             TEXT,
    key_hash              TEXT    NOT NULL UNIQUE,
    hint                  TEXT    NOT NULL DEFAULT '',
    rate_limit_per_second REAL,
    parent_id             TEXT    NOT NULL DEFAULT '',
    nonce                 TEXT,
    created_at            INTEGER NOT NULL,
    last_used_at          INTEGER NOT NULL DEFAULT 0,
    expires_at            INTEGER NOT NULL DEFAULT 0,
    revoked_at            INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX api_keys_nonce ON api_keys (nonce) WHERE nonce IS NOT NULL;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);
CREATE INDEX api_keys_parent ON api_keys (parent_id) WHERE parent_id <> '';

CREATE TABLE api_buckets (
    bucket     TEXT PRIMARY KEY,
    tokens     REAL    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE api_buckets;
DROP TABLE api_keys;
