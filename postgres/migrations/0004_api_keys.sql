-- API keys and dashboard sessions (hookd.APIKey): only the SHA-256 of the
-- secret is stored, looked up through its unique index. tenant_id is NULL
-- for admin keys. api_buckets are the API rate-limit token buckets that
-- the nodes take tokens from in chunks (Store.TakeTokens).

-- +goose Up
CREATE TABLE api_keys (
    id                    text PRIMARY KEY,
    kind                  text        NOT NULL DEFAULT 'key',
    name                  text        NOT NULL DEFAULT '',
    tenant_id             text,
    key_hash              bytea       NOT NULL UNIQUE,
    hint                  text        NOT NULL DEFAULT '',
    rate_limit_per_second float8,
    parent_id             text        NOT NULL DEFAULT '',
    nonce                 text UNIQUE,
    created_at            timestamptz NOT NULL,
    last_used_at          timestamptz,
    expires_at            timestamptz,
    revoked_at            timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);
CREATE INDEX api_keys_parent ON api_keys (parent_id) WHERE parent_id <> '';

CREATE TABLE api_buckets (
    bucket     text PRIMARY KEY,
    tokens     float8      NOT NULL,
    updated_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE api_buckets;
DROP TABLE api_keys;
