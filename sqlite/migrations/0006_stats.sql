-- Stats rollups (see hookd/stats.go): per endpoint, one row per minute and
-- one per hour (bucket = the span's start, unix microseconds), written by
-- CompleteAttempts/CompleteAndClaim in the transaction that records the
-- attempts. l00..l24 count attempts per latency bucket (hookd.LatencyBounds;
-- l24 is everything above the last bound); *_codes count attempts per HTTP
-- status code (0: no response). The endpoint keeps its latest failure
-- (last_error, last_error_at) for the stats answer.
--
-- No foreign key to endpoints: on Postgres its check would take a KEY SHARE
-- lock on the endpoint row that the completion already holds FOR NO KEY
-- UPDATE, which makes a MultiXact on every completion. DeleteEndpoint
-- deletes the endpoint's rows itself.

-- +goose Up
CREATE TABLE stat_minutes (
    endpoint_id  TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL DEFAULT '',
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
    PRIMARY KEY (endpoint_id, bucket)
) WITHOUT ROWID;
CREATE INDEX stat_minutes_bucket ON stat_minutes (bucket);
CREATE INDEX stat_minutes_tenant ON stat_minutes (tenant_id, bucket);

CREATE TABLE stat_minute_codes (
    endpoint_id  TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    code         INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL DEFAULT '',
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, bucket, code)
) WITHOUT ROWID;
CREATE INDEX stat_minute_codes_bucket ON stat_minute_codes (bucket);
CREATE INDEX stat_minute_codes_tenant ON stat_minute_codes (tenant_id, bucket);

CREATE TABLE stat_hours (
    endpoint_id  TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL DEFAULT '',
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
    PRIMARY KEY (endpoint_id, bucket)
) WITHOUT ROWID;
CREATE INDEX stat_hours_bucket ON stat_hours (bucket);
CREATE INDEX stat_hours_tenant ON stat_hours (tenant_id, bucket);

CREATE TABLE stat_hour_codes (
    endpoint_id  TEXT NOT NULL,
    bucket       INTEGER NOT NULL,
    code         INTEGER NOT NULL,
    tenant_id    TEXT NOT NULL DEFAULT '',
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, bucket, code)
) WITHOUT ROWID;
CREATE INDEX stat_hour_codes_bucket ON stat_hour_codes (bucket);
CREATE INDEX stat_hour_codes_tenant ON stat_hour_codes (tenant_id, bucket);

ALTER TABLE endpoints ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN last_error_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
DROP TABLE stat_hour_codes;
DROP TABLE stat_hours;
DROP TABLE stat_minute_codes;
DROP TABLE stat_minutes;
ALTER TABLE endpoints DROP COLUMN last_error_at;
ALTER TABLE endpoints DROP COLUMN last_error;
