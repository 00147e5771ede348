package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
)

// hourBin is the hour a minute row's bucket (Unix microseconds) falls in.
const hourBin = `bucket - bucket % 3600000000`

// rollupStatements recompute the hour rows of [?1, ?2): delete them and
// insert the sums again (a full recomputation: a row whose sources are
// gone disappears too), first the endpoint hour rows from the minute rows
// (the completions write only those; a minute's codes are its rows in
// stat_minute_codes and its own code1, n1), then the tenants from the endpoint
// hour rows, overall from the tenant rows but the system tenant's (?3).
var rollupStatements = []string{
	`DELETE FROM stat_hours WHERE bucket >= ?1 AND bucket < ?2`,
	`INSERT INTO stat_hours (endpoint_id, bucket, tenant_id, ` + rollup.Columns + `)
		SELECT endpoint_id, ` + hourBin + `, max(tenant_id), ` + rollup.SumColumns + ` FROM stat_minutes
		WHERE bucket >= ?1 AND bucket < ?2 GROUP BY endpoint_id, ` + hourBin,
	`DELETE FROM stat_hour_codes WHERE bucket >= ?1 AND bucket < ?2`,
	`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n)
		SELECT endpoint_id, ` + hourBin + `, code, max(tenant_id), sum(n) FROM (
			SELECT endpoint_id, bucket, code, tenant_id, n FROM stat_minute_codes WHERE bucket >= ?1 AND bucket < ?2
			UNION ALL SELECT endpoint_id, bucket, code1, tenant_id, n1 FROM stat_minutes WHERE bucket >= ?1 AND bucket < ?2 AND n1 <> 0)
		GROUP BY endpoint_id, ` + hourBin + `, code`,
	`DELETE FROM ` + rollup.TenantHours + ` WHERE bucket >= ?1 AND bucket < ?2`,
	`INSERT INTO ` + rollup.TenantHours + ` (tenant_id, bucket, ` + rollup.Columns + `)
		SELECT tenant_id, bucket, ` + rollup.SumColumns + ` FROM stat_hours
		WHERE bucket >= ?1 AND bucket < ?2 GROUP BY tenant_id, bucket`,
	`DELETE FROM ` + rollup.TenantHourCodes + ` WHERE bucket >= ?1 AND bucket < ?2`,
	`INSERT INTO ` + rollup.TenantHourCodes + ` (tenant_id, bucket, code, n)
		SELECT tenant_id, bucket, code, sum(n) FROM stat_hour_codes
		WHERE bucket >= ?1 AND bucket < ?2 GROUP BY tenant_id, bucket, code`,
	`DELETE FROM ` + rollup.OverallHours + ` WHERE bucket >= ?1 AND bucket < ?2`,
	`INSERT INTO ` + rollup.OverallHours + ` (bucket, ` + rollup.Columns + `)
		SELECT bucket, ` + rollup.SumColumns + ` FROM ` + rollup.TenantHours + `
		WHERE bucket >= ?1 AND bucket < ?2 AND tenant_id <> ?3 GROUP BY bucket`,
	`DELETE FROM ` + rollup.OverallHourCodes + ` WHERE bucket >= ?1 AND bucket < ?2`,
	`INSERT INTO ` + rollup.OverallHourCodes + ` (bucket, code, n)
		SELECT bucket, code, sum(n) FROM ` + rollup.TenantHourCodes + `
		WHERE bucket >= ?1 AND bucket < ?2 AND tenant_id <> ?3 GROUP BY bucket, code`,
}

// RollupHours recomputes the endpoint hour rows (from the minute rows) and
// the per-tenant and overall hour rows of the hours around the watermark
// (see hookd.Store) in one write transaction. It is a lazy write: a commit
// lost to a power failure is recomputed next time (the minute rows it
// sums are written durably with the attempts).
func (s *Store) RollupHours(ctx context.Context, upTo time.Time, redo, maxSpan time.Duration) (time.Time, error) {
	if err := rollup.CheckRollup(upTo, maxSpan); err != nil {
		return time.Time{}, err
	}
	var next time.Time
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		mark, err := hoursMark(ctx, tx)
		if err != nil {
			return err
		}
		var oldest time.Time
		if mark.IsZero() {
			var us sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT min(bucket) FROM stat_minutes`).Scan(&us); err != nil {
				return err
			}
			if us.Valid {
				oldest = fromMicros(us.Int64)
			}
		}
		from, to, n, ok := rollup.RollupRange(mark, oldest, upTo, redo, maxSpan)
		next = n
		if ok {
			for _, q := range rollupStatements {
				if _, err := tx.ExecContext(ctx, q, micros(from), micros(to), hookd.SystemTenant); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO stat_rollup_marks (name, up_to) VALUES (?, ?), (?, ?)
			ON CONFLICT (name) DO UPDATE SET up_to = excluded.up_to`, rollup.MarkHours, micros(next),
			rollup.MarkRedo, micros(rollup.RedoFrom(next, redo)))
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("stats rollup: %w", err)
	}
	return next, nil
}

// hoursMark reads RollupHours' watermark (zero: none yet).
func hoursMark(ctx context.Context, tx *sql.Tx) (time.Time, error) {
	return readMark(ctx, tx, rollup.MarkHours)
}

// readMark reads the mark name of stat_rollup_marks (zero: none).
func readMark(ctx context.Context, tx *sql.Tx, name string) (time.Time, error) {
	var us int64
	err := tx.QueryRowContext(ctx, `SELECT up_to FROM stat_rollup_marks WHERE name = ?`, name).Scan(&us)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read stats watermark: %w", err)
	}
	return fromMicros(us), nil
}

// subtractSummed takes a deleted endpoint's hour rows below the watermark
// out of the summed rows (DeleteEndpoint, before it deletes them): the
// summed rows then equal the sums of the endpoint rows that remain. Code
// rows that reach zero go.
var subtractSummed = []string{
	`UPDATE ` + rollup.TenantHours + ` AS t SET ` + rollup.SubtractAssignments + `
		FROM stat_hours e WHERE e.endpoint_id = ?1 AND e.bucket < ?2 AND t.tenant_id = e.tenant_id AND t.bucket = e.bucket`,
	`UPDATE ` + rollup.OverallHours + ` AS t SET ` + rollup.SubtractAssignments + `
		FROM stat_hours e WHERE e.endpoint_id = ?1 AND e.bucket < ?2 AND e.tenant_id <> ?3 AND t.bucket = e.bucket`,
	`UPDATE ` + rollup.TenantHourCodes + ` AS t SET n = t.n - e.n
		FROM stat_hour_codes e WHERE e.endpoint_id = ?1 AND e.bucket < ?2 AND t.tenant_id = e.tenant_id AND t.bucket = e.bucket AND t.code = e.code`,
	`UPDATE ` + rollup.OverallHourCodes + ` AS t SET n = t.n - e.n
		FROM stat_hour_codes e WHERE e.endpoint_id = ?1 AND e.bucket < ?2 AND e.tenant_id <> ?3 AND t.bucket = e.bucket AND t.code = e.code`,
	`DELETE FROM ` + rollup.TenantHourCodes + ` WHERE n <= 0 AND tenant_id IN (SELECT tenant_id FROM stat_hours WHERE endpoint_id = ?1)`,
	`DELETE FROM ` + rollup.OverallHourCodes + ` WHERE n <= 0`,
}

func subtractRollups(ctx context.Context, tx *sql.Tx, endpointID string) error {
	mark, err := hoursMark(ctx, tx)
	if err != nil || mark.IsZero() {
		return err
	}
	for _, q := range subtractSummed {
		if _, err := tx.ExecContext(ctx, q, endpointID, micros(mark), hookd.SystemTenant); err != nil {
			return fmt.Errorf("subtract stats: %w", err)
		}
	}
	return nil
}
