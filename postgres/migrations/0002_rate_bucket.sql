-- The per-endpoint rate limit as a token bucket kept on the endpoint row, so
-- that it holds across every node (ClaimDue spends it under a row lock).
-- rate_tokens is the bucket's content at rate_updated_at; NULL means never
-- spent (a full bucket). The bucket holds max(1, rate_limit_per_second)
-- tokens and refills at rate_limit_per_second per second.

-- +goose Up
ALTER TABLE endpoints
    ADD COLUMN rate_tokens     double precision NOT NULL DEFAULT 0,
    ADD COLUMN rate_updated_at timestamptz;

-- +goose Down
ALTER TABLE endpoints
    DROP COLUMN rate_updated_at,
    DROP COLUMN rate_tokens;
