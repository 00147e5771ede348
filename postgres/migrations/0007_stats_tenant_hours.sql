-- Per-tenant and overall hour rollups (see hookd/stats.go, Store.RollupHours):
-- sums of the endpoint hour rows (stat_hours, stat_hour_codes) of closed
-- hours, written by a scheduler job — never on the delivery path — so that a
-- tenant's or the overall stats over 30 days read one row per hour (not one
-- per endpoint and hour). bucket = the hour's start (timestamptz). The
-- overall rows leave out the system tenant (hookd's own operational
-- deliveries). stat_rollup_marks holds the watermark: hours before up_to
-- are summed here; reads take these rows below it and the endpoint rows
-- from it on.

-- +goose Up
CREATE TABLE stat_tenant_hours (
    tenant_id    text NOT NULL,
    bucket       timestamptz NOT NULL,
    attempts     bigint NOT NULL DEFAULT 0,
    succeeded    bigint NOT NULL DEFAULT 0,
    failed       bigint NOT NULL DEFAULT 0,
    l00          bigint NOT NULL DEFAULT 0,
    l01          bigint NOT NULL DEFAULT 0,
    l02          bigint NOT NULL DEFAULT 0,
    l03          bigint NOT NULL DEFAULT 0,
    l04          bigint NOT NULL DEFAULT 0,
    l05          bigint NOT NULL DEFAULT 0,
    l06          bigint NOT NULL DEFAULT 0,
    l07          bigint NOT NULL DEFAULT 0,
    l08          bigint NOT NULL DEFAULT 0,
    l09          bigint NOT NULL DEFAULT 0,
    l10          bigint NOT NULL DEFAULT 0,
    l11          bigint NOT NULL DEFAULT 0,
    l12          bigint NOT NULL DEFAULT 0,
    l13          bigint NOT NULL DEFAULT 0,
    l14          bigint NOT NULL DEFAULT 0,
    l15          bigint NOT NULL DEFAULT 0,
    l16          bigint NOT NULL DEFAULT 0,
    l17          bigint NOT NULL DEFAULT 0,
    l18          bigint NOT NULL DEFAULT 0,
    l19          bigint NOT NULL DEFAULT 0,
    l20          bigint NOT NULL DEFAULT 0,
    l21          bigint NOT NULL DEFAULT 0,
    l22          bigint NOT NULL DEFAULT 0,
    l23          bigint NOT NULL DEFAULT 0,
    l24          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, bucket)
);
CREATE INDEX stat_tenant_hours_bucket ON stat_tenant_hours (bucket);

CREATE TABLE stat_tenant_hour_codes (
    tenant_id    text NOT NULL,
    bucket       timestamptz NOT NULL,
    code         int NOT NULL,
    n            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, bucket, code)
);
CREATE INDEX stat_tenant_hour_codes_bucket ON stat_tenant_hour_codes (bucket);

CREATE TABLE stat_overall_hours (
    bucket       timestamptz NOT NULL,
    attempts     bigint NOT NULL DEFAULT 0,
    succeeded    bigint NOT NULL DEFAULT 0,
    failed       bigint NOT NULL DEFAULT 0,
    l00          bigint NOT NULL DEFAULT 0,
    l01          bigint NOT NULL DEFAULT 0,
    l02          bigint NOT NULL DEFAULT 0,
    l03          bigint NOT NULL DEFAULT 0,
    l04          bigint NOT NULL DEFAULT 0,
    l05          bigint NOT NULL DEFAULT 0,
    l06          bigint NOT NULL DEFAULT 0,
    l07          bigint NOT NULL DEFAULT 0,
    l08          bigint NOT NULL DEFAULT 0,
    l09          bigint NOT NULL DEFAULT 0,
    l10          bigint NOT NULL DEFAULT 0,
    l11          bigint NOT NULL DEFAULT 0,
    l12          bigint NOT NULL DEFAULT 0,
    l13          bigint NOT NULL DEFAULT 0,
    l14          bigint NOT NULL DEFAULT 0,
    l15          bigint NOT NULL DEFAULT 0,
    l16          bigint NOT NULL DEFAULT 0,
    l17          bigint NOT NULL DEFAULT 0,
    l18          bigint NOT NULL DEFAULT 0,
    l19          bigint NOT NULL DEFAULT 0,
    l20          bigint NOT NULL DEFAULT 0,
    l21          bigint NOT NULL DEFAULT 0,
    l22          bigint NOT NULL DEFAULT 0,
    l23          bigint NOT NULL DEFAULT 0,
    l24          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket)
);

CREATE TABLE stat_overall_hour_codes (
    bucket       timestamptz NOT NULL,
    code         int NOT NULL,
    n            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, code)
);

CREATE TABLE stat_rollup_marks (
    name         text NOT NULL PRIMARY KEY,
    up_to        timestamptz NOT NULL
);

-- +goose Down
DROP TABLE stat_rollup_marks;
DROP TABLE stat_overall_hour_codes;
DROP TABLE stat_overall_hours;
DROP TABLE stat_tenant_hour_codes;
DROP TABLE stat_tenant_hours;
