package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	"github.com/jackc/pgx/v5"
)

// rollupStatement is one statement of a recomputation; system says
// whether it takes the system tenant as $3.
type rollupStatement struct {
	sql    string
	system bool
}

// hourBin is the hour a minute row's bucket falls in (date_bin from the
// Unix epoch: whatever the session's time zone).
const hourBin = `date_bin(interval '1 hour', bucket, timestamptz '1970-01-01 00:00:00+00')`

// rollupStatements recompute the hour rows of [$1, $2): delete them and
// insert the sums again (a full recomputation: a row whose sources are
// gone disappears too), first the endpoint hour rows from the minute rows
// (the completions write only those), then the tenants from the endpoint
// hour rows, overall from the tenant rows but the system tenant's ($3).
var rollupStatements = []rollupStatement{
	{`DELETE FROM stat_hours WHERE bucket >= $1 AND bucket < $2`, false},
	{`INSERT INTO stat_hours (endpoint_id, bucket, tenant_id, ` + rollup.Columns + `)
		SELECT endpoint_id, ` + hourBin + `, max(tenant_id), ` + rollup.SumColumns + ` FROM stat_minutes
		WHERE bucket >= $1 AND bucket < $2 GROUP BY 1, 2`, false},
	{`DELETE FROM stat_hour_codes WHERE bucket >= $1 AND bucket < $2`, false},
	{`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n)
		SELECT endpoint_id, ` + hourBin + `, code, max(tenant_id), sum(n) FROM stat_minute_codes
		WHERE bucket >= $1 AND bucket < $2 GROUP BY 1, 2, 3`, false},
	{`DELETE FROM ` + rollup.TenantHours + ` WHERE bucket >= $1 AND bucket < $2`, false},
	{`INSERT INTO ` + rollup.TenantHours + ` (tenant_id, bucket, ` + rollup.Columns + `)
		SELECT tenant_id, bucket, ` + rollup.SumColumns + ` FROM stat_hours
		WHERE bucket >= $1 AND bucket < $2 GROUP BY tenant_id, bucket`, false},
	{`DELETE FROM ` + rollup.TenantHourCodes + ` WHERE bucket >= $1 AND bucket < $2`, false},
	{`INSERT INTO ` + rollup.TenantHourCodes + ` (tenant_id, bucket, code, n)
		SELECT tenant_id, bucket, code, sum(n) FROM stat_hour_codes
		WHERE bucket >= $1 AND bucket < $2 GROUP BY tenant_id, bucket, code`, false},
	{`DELETE FROM ` + rollup.OverallHours + ` WHERE bucket >= $1 AND bucket < $2`, false},
	{`INSERT INTO ` + rollup.OverallHours + ` (bucket, ` + rollup.Columns + `)
		SELECT bucket, ` + rollup.SumColumns + ` FROM ` + rollup.TenantHours + `
		WHERE bucket >= $1 AND bucket < $2 AND tenant_id <> $3 GROUP BY bucket`, true},
	{`DELETE FROM ` + rollup.OverallHourCodes + ` WHERE bucket >= $1 AND bucket < $2`, false},
	{`INSERT INTO ` + rollup.OverallHourCodes + ` (bucket, code, n)
		SELECT bucket, code, sum(n) FROM ` + rollup.TenantHourCodes + `
		WHERE bucket >= $1 AND bucket < $2 AND tenant_id <> $3 GROUP BY bucket, code`, true},
}

// RollupHours recomputes the endpoint hour rows (from the minute rows) and
// the per-tenant and overall hour rows of the hours around the watermark
// (see hookd.Store) in one transaction, holding the watermark row locked
// (DeleteEndpoint's subtraction waits for it).
func (s *Store) RollupHours(ctx context.Context, upTo time.Time, redo, maxSpan time.Duration) (time.Time, error) {
	if err := rollup.CheckRollup(upTo, maxSpan); err != nil {
		return time.Time{}, err
	}
	var next time.Time
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		mark, err := hoursMark(ctx, tx)
		if err != nil {
			return err
		}
		var oldest time.Time
		if mark.IsZero() {
			var t *time.Time
			if err := tx.QueryRow(ctx, `SELECT min(bucket) FROM stat_minutes`).Scan(&t); err != nil {
				return err
			}
			oldest = fromNull(t)
		}
		from, to, n, ok := rollup.RollupRange(mark, oldest, upTo, redo, maxSpan)
		next = n
		if ok {
			for _, q := range rollupStatements {
				args := []any{from, to}
				if q.system {
					args = append(args, hookd.SystemTenant)
				}
				if _, err := tx.Exec(ctx, q.sql, args...); err != nil {
					return err
				}
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO stat_rollup_marks (name, up_to) VALUES ($1, $2), ($3, $4)
			ON CONFLICT (name) DO UPDATE SET up_to = excluded.up_to`, rollup.MarkHours, next, rollup.MarkRedo, rollup.RedoFrom(next, redo))
		return err
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("stats rollup: %w", err)
	}
	return next, nil
}

// hoursMark reads RollupHours' watermark (zero: none yet), locking its row
// until tx ends.
func hoursMark(ctx context.Context, tx pgx.Tx) (time.Time, error) {
	var t time.Time
	err := tx.QueryRow(ctx, `SELECT up_to FROM stat_rollup_marks WHERE name = $1 FOR UPDATE`, rollup.MarkHours).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read stats watermark: %w", err)
	}
	return t.UTC(), nil
}

// readHoursMark reads the watermark without locking it (a read-only
// snapshot of ReadStats).
func readHoursMark(ctx context.Context, tx pgx.Tx) (time.Time, error) {
	return readMark(ctx, tx, rollup.MarkHours)
}

// readMark reads the mark name of stat_rollup_marks (zero: none).
func readMark(ctx context.Context, tx pgx.Tx, name string) (time.Time, error) {
	var t time.Time
	err := tx.QueryRow(ctx, `SELECT up_to FROM stat_rollup_marks WHERE name = $1`, name).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read stats watermark: %w", err)
	}
	return t.UTC(), nil
}

// subtractSummed takes a deleted endpoint's hour rows below the watermark
// out of the summed rows (DeleteEndpoint, before it deletes them): the
// summed rows then equal the sums of the endpoint rows that remain. Code
// rows that reach zero go.
var subtractSummed = []rollupStatement{
	{`UPDATE ` + rollup.TenantHours + ` AS t SET ` + rollup.SubtractAssignments + `
		FROM stat_hours e WHERE e.endpoint_id = $1 AND e.bucket < $2 AND t.tenant_id = e.tenant_id AND t.bucket = e.bucket`, false},
	{`UPDATE ` + rollup.OverallHours + ` AS t SET ` + rollup.SubtractAssignments + `
		FROM stat_hours e WHERE e.endpoint_id = $1 AND e.bucket < $2 AND e.tenant_id <> $3 AND t.bucket = e.bucket`, true},
	{`UPDATE ` + rollup.TenantHourCodes + ` AS t SET n = t.n - e.n
		FROM stat_hour_codes e WHERE e.endpoint_id = $1 AND e.bucket < $2 AND t.tenant_id = e.tenant_id AND t.bucket = e.bucket AND t.code = e.code`, false},
	{`UPDATE ` + rollup.OverallHourCodes + ` AS t SET n = t.n - e.n
		FROM stat_hour_codes e WHERE e.endpoint_id = $1 AND e.bucket < $2 AND e.tenant_id <> $3 AND t.bucket = e.bucket AND t.code = e.code`, true},
	{`DELETE FROM ` + rollup.TenantHourCodes + ` WHERE n <= 0 AND bucket < $2
		AND tenant_id IN (SELECT tenant_id FROM stat_hours WHERE endpoint_id = $1)`, false},
	{`DELETE FROM ` + rollup.OverallHourCodes + ` WHERE n <= 0 AND bucket < $2 AND $1::text IS NOT NULL`, false},
}

func subtractRollups(ctx context.Context, tx pgx.Tx, endpointID string) error {
	mark, err := hoursMark(ctx, tx)
	if err != nil || mark.IsZero() {
		return err
	}
	for _, q := range subtractSummed {
		args := []any{endpointID, mark}
		if q.system {
			args = append(args, hookd.SystemTenant)
		}
		if _, err := tx.Exec(ctx, q.sql, args...); err != nil {
			return fmt.Errorf("subtract stats: %w", err)
		}
	}
	return nil
}
