-- Firing success-rate alerts: one row per episode, inserted when it fires
-- and deleted when it resolves (Store.FireAlert, Store.ResolveAlert), so a
-- restarted node or a second one never fires the same episode twice.

-- +goose Up
CREATE TABLE alerts (
    key          text             PRIMARY KEY,
    scope        text             NOT NULL,
    endpoint_id  text             NOT NULL DEFAULT '',
    tenant_id    text             NOT NULL DEFAULT '',
    since        timestamptz      NOT NULL,
    success_rate double precision NOT NULL,
    attempts     bigint           NOT NULL,
    failed       bigint           NOT NULL,
    updated_at   timestamptz      NOT NULL
);

-- +goose Down
DROP TABLE alerts;
