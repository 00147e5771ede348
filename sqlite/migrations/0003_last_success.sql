-- When an attempt to the endpoint last succeeded (unix microseconds; 0:
-- never). Dead-letter auto-replay requeues the deliveries that died before
-- it (Store.RecoveredEndpoints).

-- +goose Up
ALTER TABLE endpoints ADD COLUMN last_success_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE endpoints DROP COLUMN last_success_at;
