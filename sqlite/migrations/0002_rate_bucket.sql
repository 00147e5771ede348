-- The per-endpoint rate limit as a token bucket kept on the endpoint row
-- (ClaimDue spends it in its write transaction). rate_tokens is the
-- bucket's content at rate_updated_at (unix microseconds); 0 means never
-- spent (a full bucket). The bucket holds max(1, rate_limit_per_second)
-- tokens and refills at rate_limit_per_second per second.

-- +goose Up
ALTER TABLE endpoints ADD COLUMN rate_tokens REAL NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_updated_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE endpoints DROP COLUMN rate_updated_at;
ALTER TABLE endpoints DROP COLUMN rate_tokens;
