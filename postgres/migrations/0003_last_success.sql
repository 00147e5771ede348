-- When an attempt to the endpoint last succeeded (NULL: never). Dead-letter
-- auto-replay requeues the deliveries that died before it
-- (Store.RecoveredEndpoints).

-- +goose Up
ALTER TABLE endpoints ADD COLUMN last_success_at timestamptz;

-- +goose Down
ALTER TABLE endpoints DROP COLUMN last_success_at;
