-- Per-tenant and overall hour rollups (see hookd/stats.go, Store.RollupHours):
-- sums of the endpoint hour rows (stat_hours, stat_hour_codes) of closed
-- hours, written by a scheduler job — never on the delivery path — so that a
-- tenant's or the overall stats over 30 days read one row per hour (not one
-- per endpoint and hour). bucket = the hour's start (unix microseconds). The
-- overall rows leave out the system tenant (hookd's own operational
-- deliveries). stat_rollup_marks holds the watermark: hours before up_to
-- are summed here; reads take these rows below it and the endpoint rows
-- from it on.

-- +goose Up
CREATE TABLE stat_tenant_hours (
    tenant_id    TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    succeeded    INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    l00          INTEGER NOT NULL DEFAULT 0,
    l01          INTEGER NOT NULL DEFAULT 0,
    l02          INTEGER NOT NULL DEFAULT 0,
    l03          INTEGER NOT NULL DEFAULT 0,
    l04          INTEGER NOT NULL DEFAULT 0,
    l05          INTEGER NOT NULL DEFAULT 0,
    l06          INTEGER NOT NULL DEFAULT 0,
    l07          INTEGER NOT NULL DEFAULT 0,
    l08          INTEGER NOT NULL DEFAULT 0,
    l09          INTEGER NOT NULL DEFAULT 0,
    l10          INTEGER NOT NULL DEFAULT 0,
    l11          INTEGER NOT NULL DEFAULT 0,
    l12          INTEGER NOT NULL DEFAULT 0,
    l13          INTEGER NOT NULL DEFAULT 0,
    l14          INTEGER NOT NULL DEFAULT 0,
    l15          INTEGER NOT NULL DEFAULT 0,
    l16          INTEGER NOT NULL DEFAULT 0,
    l17          INTEGER NOT NULL DEFAULT 0,
    l18          INTEGER NOT NULL DEFAULT 0,
    l19          INTEGER NOT NULL DEFAULT 0,
    l20          INTEGER NOT NULL DEFAULT 0,
    l21          INTEGER NOT NULL DEFAULT 0,
    l22          INTEGER NOT NULL DEFAULT 0,
    l23          INTEGER NOT NULL DEFAULT 0,
    l24          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, bucket)
) WITHOUT ROWID;
CREATE INDEX stat_tenant_hours_bucket ON stat_tenant_hours (bucket);

CREATE TABLE stat_tenant_hour_codes (
    tenant_id    TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    code         INTEGER NOT NULL,
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, bucket, code)
) WITHOUT ROWID;
CREATE INDEX stat_tenant_hour_codes_bucket ON stat_tenant_hour_codes (bucket);

CREATE TABLE stat_overall_hours (
    bucket       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    succeeded    INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    l00          INTEGER NOT NULL DEFAULT 0,
    l01          INTEGER NOT NULL DEFAULT 0,
    l02          INTEGER NOT NULL DEFAULT 0,
    l03          INTEGER NOT NULL DEFAULT 0,
    l04          INTEGER NOT NULL DEFAULT 0,
    l05          INTEGER NOT NULL DEFAULT 0,
    l06          INTEGER NOT NULL DEFAULT 0,
    l07          INTEGER NOT NULL DEFAULT 0,
    l08          INTEGER NOT NULL DEFAULT 0,
    l09          INTEGER NOT NULL DEFAULT 0,
    l10          INTEGER NOT NULL DEFAULT 0,
    l11          INTEGER NOT NULL DEFAULT 0,
    l12          INTEGER NOT NULL DEFAULT 0,
    l13          INTEGER NOT NULL DEFAULT 0,
    l14          INTEGER NOT NULL DEFAULT 0,
    l15          INTEGER NOT NULL DEFAULT 0,
    l16          INTEGER NOT NULL DEFAULT 0,
    l17          INTEGER NOT NULL DEFAULT 0,
    l18          INTEGER NOT NULL DEFAULT 0,
    l19          INTEGER NOT NULL DEFAULT 0,
    l20          INTEGER NOT NULL DEFAULT 0,
    l21          INTEGER NOT NULL DEFAULT 0,
    l22          INTEGER NOT NULL DEFAULT 0,
    l23          INTEGER NOT NULL DEFAULT 0,
    l24          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket)
) WITHOUT ROWID;

CREATE TABLE stat_overall_hour_codes (
    bucket       INTEGER NOT NULL,
    code         INTEGER NOT NULL,
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, code)
) WITHOUT ROWID;

CREATE TABLE stat_rollup_marks (
    name         TEXT NOT NULL PRIMARY KEY,
    up_to        INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE stat_rollup_marks;
DROP TABLE stat_overall_hour_codes;
DROP TABLE stat_overall_hours;
DROP TABLE stat_tenant_hour_codes;
DROP TABLE stat_tenant_hours;
