-- A minute row counts one status code itself (see sqlite/stats.go,
-- qAddMinute): code1 is the first code it was written with, n1 its count;
-- stat_minute_codes holds the minute's other codes. An endpoint's attempts
-- in one minute mostly share one code, so a completion mostly writes one
-- rollup row where it wrote two. Rows written before keep all their codes
-- in stat_minute_codes (code1 -1: none yet; n1 0). Postgres keeps the codes
-- table alone: its completion writes every rollup row of a batch in one
-- statement already.

-- +goose Up
ALTER TABLE stat_minutes ADD COLUMN code1 INTEGER NOT NULL DEFAULT -1;
ALTER TABLE stat_minutes ADD COLUMN n1 INTEGER NOT NULL DEFAULT 0;

-- +goose Down
INSERT INTO stat_minute_codes (endpoint_id, bucket, code, tenant_id, n)
    SELECT endpoint_id, bucket, code1, tenant_id, n1 FROM stat_minutes WHERE n1 <> 0
    ON CONFLICT (endpoint_id, bucket, code) DO UPDATE SET n = stat_minute_codes.n + excluded.n;
ALTER TABLE stat_minutes DROP COLUMN n1;
ALTER TABLE stat_minutes DROP COLUMN code1;
