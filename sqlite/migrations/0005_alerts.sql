-- Firing success-rate alerts: one row per episode, inserted when it fires
-- and deleted when it resolves (Store.FireAlert, Store.ResolveAlert), so a
-- restarted node or a second one never fires the same episode twice.
-- Times are unix microseconds.

-- +goose Up
CREATE TABLE alerts (
    key          TEXT    PRIMARY KEY,
    scope        TEXT    NOT NULL,
    endpoint_id  TEXT    NOT NULL DEFAULT '',
    tenant_id    TEXT    NOT NULL DEFAULT '',
    since        INTEGER NOT NULL,
    success_rate REAL    NOT NULL,
    attempts     INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- +goose Down
DROP TABLE alerts;
