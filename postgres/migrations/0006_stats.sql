-- Stats rollups (see hookd/stats.go): per endpoint, one row per minute and
-- one per hour (bucket = the span's start, timestamptz), written by
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
    endpoint_id  text COLLATE "C" NOT NULL,
    bucket       timestamptz NOT NULL,
    tenant_id    text NOT NULL DEFAULT '',
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
    PRIMARY KEY (endpoint_id, bucket)
);
CREATE INDEX stat_minutes_bucket ON stat_minutes (bucket);
CREATE INDEX stat_minutes_tenant ON stat_minutes (tenant_id, bucket);

CREATE TABLE stat_minute_codes (
    endpoint_id  text COLLATE "C" NOT NULL,
    bucket       timestamptz NOT NULL,
    code         integer NOT NULL,
    tenant_id    text NOT NULL DEFAULT '',
    n            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, bucket, code)
);
CREATE INDEX stat_minute_codes_bucket ON stat_minute_codes (bucket);
CREATE INDEX stat_minute_codes_tenant ON stat_minute_codes (tenant_id, bucket);

CREATE TABLE stat_hours (
    endpoint_id  text COLLATE "C" NOT NULL,
    bucket       timestamptz NOT NULL,
    tenant_id    text NOT NULL DEFAULT '',
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
    PRIMARY KEY (endpoint_id, bucket)
);
CREATE INDEX stat_hours_bucket ON stat_hours (bucket);
CREATE INDEX stat_hours_tenant ON stat_hours (tenant_id, bucket);

CREATE TABLE stat_hour_codes (
    endpoint_id  text COLLATE "C" NOT NULL,
    bucket       timestamptz NOT NULL,
    code         integer NOT NULL,
    tenant_id    text NOT NULL DEFAULT '',
    n            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (endpoint_id, bucket, code)
);
CREATE INDEX stat_hour_codes_bucket ON stat_hour_codes (bucket);
CREATE INDEX stat_hour_codes_tenant ON stat_hour_codes (tenant_id, bucket);

ALTER TABLE endpoints
    ADD COLUMN last_error    text NOT NULL DEFAULT '',
    ADD COLUMN last_error_at timestamptz;

-- +goose Down
DROP TABLE stat_hour_codes;
DROP TABLE stat_hours;
DROP TABLE stat_minute_codes;
DROP TABLE stat_minutes;
ALTER TABLE endpoints
    DROP COLUMN last_error_at,
    DROP COLUMN last_error;
