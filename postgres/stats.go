package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	"github.com/jackc/pgx/v5"
)

// deleteRollups deletes the stats rollups of an endpoint (DeleteEndpoint).
func deleteRollups(ctx context.Context, tx pgx.Tx, endpointID string) error {
	if err := subtractRollups(ctx, tx, endpointID); err != nil {
		return err
	}
	for _, t := range []string{"stat_minutes", "stat_minute_codes", "stat_hours", "stat_hour_codes"} {
		if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE endpoint_id = $1`, endpointID); err != nil {
			return fmt.Errorf("delete stats: %w", err)
		}
	}
	return nil
}

// WatchCircuits makes fn receive every circuit transition (see
// hookd.CircuitWatcher).
func (s *Store) WatchCircuits(fn func(hookd.CircuitChange)) { s.circuits.Set(fn) }

// statsScope is the WHERE clause of a stats read with its one argument
// ($1), or no argument.
func statsScope(q hookd.StatsQuery, idColumn string) (string, []any) {
	switch {
	case q.EndpointID != "":
		return idColumn + " = $1", []any{q.EndpointID}
	case q.TenantID != nil:
		return "tenant_id = $1", []any{*q.TenantID}
	}
	return "tenant_id <> $1", []any{hookd.SystemTenant} // overall: not hookd's own deliveries
}

// ReadStats sums the rollups of q's window (see hookd.Store): whole hours
// below the watermark of RollupHours from the hour rows (a tenant's or the
// overall from the summed rows), the rest from minute rows, in one
// read-only repeatable-read transaction (a consistent snapshot).
func (s *Store) ReadStats(ctx context.Context, q hookd.StatsQuery) (*hookd.Stats, error) {
	if err := rollup.Check(q.Since, q.Until, q.Bucket); err != nil {
		return nil, err
	}
	st := &hookd.Stats{StatusCodes: map[int]int64{}}
	st.Since, st.Until = rollup.Window(q.Since, q.Until)
	where, args := statsScope(q, "endpoint_id")
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		if err := readEndpoints(ctx, tx, q, st); err != nil {
			return err
		}
		var parts, codeParts []string
		partArgs := args
		mark, err := readHoursMark(ctx, tx)
		if err != nil {
			return err
		}
		ranges := rollup.Split(st.Since, st.Until, q.Bucket)
		if q.EndpointID == "" { // a tenant or overall: the summed hours below the watermark
			ranges = rollup.SplitSummed(ranges, mark, q.Bucket)
		}
		ranges = rollup.FromMinutes(ranges, mark) // the hours from the watermark on: minute rows
		for _, r := range ranges {
			table, codes, w := r.Span.Table(), r.Span.CodesTable(), where
			switch {
			case r.Span == rollup.Summed && q.TenantID != nil:
				table, codes = rollup.TenantHours, rollup.TenantHourCodes
			case r.Span == rollup.Summed: // $1 (the system tenant) stays bound for the other parts
				table, codes, w = rollup.OverallHours, rollup.OverallHourCodes, "$1::text IS NOT NULL"
			}
			sums, sumN := rollup.SumColumns, "sum(n)::bigint"
			if r.Neg { // subtracted: the rest of an hour read whole (rollup.SplitSummed)
				sums, sumN = rollup.NegSumColumns, "(-sum(n))::bigint"
			}
			a, b := len(partArgs)+1, len(partArgs)+2
			if r.Span == rollup.Summed {
				// One row per bucket (and tenant): taken as it is, not summed.
				parts = append(parts, fmt.Sprintf(`SELECT bucket, %s FROM %s WHERE %s AND bucket >= $%d AND bucket < $%d`,
					rollup.Columns, table, w, a, b))
				codeParts = append(codeParts, fmt.Sprintf(`SELECT code, %s FROM %s WHERE %s AND bucket >= $%d AND bucket < $%d GROUP BY code`,
					sumN, codes, w, a, b))
				partArgs = append(partArgs, r.From, r.To)
				continue
			}
			parts = append(parts, fmt.Sprintf(`SELECT bucket, %s FROM %s WHERE %s AND bucket >= $%d AND bucket < $%d GROUP BY bucket`,
				sums, table, w, a, b))
			codeParts = append(codeParts, fmt.Sprintf(`SELECT code, %s FROM %s WHERE %s AND bucket >= $%d AND bucket < $%d GROUP BY code`,
				sumN, codes, w, a, b))
			partArgs = append(partArgs, r.From, r.To)
		}
		if len(parts) == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, strings.Join(parts, " UNION ALL "), partArgs...)
		if err != nil {
			return fmt.Errorf("read rollups: %w", err)
		}
		var sums []rollup.Sum
		var sum rollup.Sum
		_, err = pgx.ForEachRow(rows, append([]any{&sum.Start}, rollup.ScanTargets(&sum.StatsCounts)...), func() error {
			sum.Start = sum.Start.UTC()
			sums = append(sums, sum)
			return nil
		})
		if err != nil {
			return fmt.Errorf("read rollups: %w", err)
		}
		rollup.Fold(st, sums, q.Bucket)
		rows, err = tx.Query(ctx, strings.Join(codeParts, " UNION ALL "), partArgs...)
		if err != nil {
			return fmt.Errorf("read status codes: %w", err)
		}
		var code int
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&code, &n}, func() error { st.StatusCodes[code] += n; return nil })
		if err != nil {
			return fmt.Errorf("read status codes: %w", err)
		}
		for code, n := range st.StatusCodes {
			if n == 0 { // all subtracted again (rollup.SplitSummed)
				delete(st.StatusCodes, code)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read stats: %w", err)
	}
	if q.Bucket == 0 {
		st.Series = nil
	}
	return st, nil
}

// readTx runs fn in a read-only repeatable-read transaction.
func (s *Store) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	return translate(err)
}

// readEndpoints fills the endpoint figures of st: circuits, latest error,
// pending and dead counts (through the partial indexes of deliveries).
func readEndpoints(ctx context.Context, tx pgx.Tx, q hookd.StatsQuery, st *hookd.Stats) error {
	where, args := statsScope(q, "id")
	rows, err := tx.Query(ctx, `SELECT circuit_state, circuit_failures, circuit_open_until, circuit_opens,
		last_error, last_error_at FROM endpoints WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("read endpoints: %w", err)
	}
	var e rollup.Endpoint
	var openUntil, lastAt *time.Time
	_, err = pgx.ForEachRow(rows, []any{&e.Circuit.State, &e.Circuit.ConsecutiveFailures, &openUntil, &e.Circuit.Opens,
		&e.LastError, &lastAt}, func() error {
		e.Circuit.OpenUntil, e.LastErrorAt = fromNull(openUntil), fromNull(lastAt)
		rollup.AddEndpoint(st, &e)
		st.Circuit = e.Circuit
		return nil
	})
	if err != nil {
		return fmt.Errorf("read endpoints: %w", err)
	}
	if q.EndpointID != "" && st.Endpoints == 0 {
		return hookd.Errorf(hookd.ENOTFOUND, "endpoint %s not found", q.EndpointID)
	}
	if q.EndpointID == "" {
		st.Circuit = hookd.Circuit{}
	}
	var count string
	switch {
	case q.EndpointID != "":
		count = `SELECT (SELECT count(*) FROM deliveries WHERE endpoint_id = $1 AND status = 'pending'),
			(SELECT count(*) FROM deliveries WHERE endpoint_id = $1 AND status = 'dead')`
	case q.TenantID != nil:
		count = `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'
				AND endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = $1)),
			(SELECT count(*) FROM deliveries WHERE status = 'dead'
				AND endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = $1))`
	default:
		count = `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'
				AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE tenant_id = $1)),
			(SELECT count(*) FROM deliveries WHERE status = 'dead'
				AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE tenant_id = $1))`
	}
	if err := tx.QueryRow(ctx, count, args...).Scan(&st.Pending, &st.Dead); err != nil {
		return fmt.Errorf("count deliveries: %w", err)
	}
	return nil
}

// StatsByEndpoint returns the totals of every endpoint with attempts in
// [since, until) (whole minutes), by endpoint id (see hookd.Store): whole
// hours below the watermark from the hour rows, the rest from minute rows.
func (s *Store) StatsByEndpoint(ctx context.Context, since, until time.Time) ([]hookd.EndpointTotals, error) {
	if err := rollup.Check(since, until, 0); err != nil {
		return nil, err
	}
	since, until = rollup.Window(since, until)
	cols := strings.Join(rollup.CountColumns, ", ")
	var out []hookd.EndpointTotals
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		mark, err := readHoursMark(ctx, tx)
		if err != nil {
			return err
		}
		var parts []string
		var args []any
		for _, r := range rollup.FromMinutes(rollup.Split(since, until, 0), mark) {
			parts = append(parts, fmt.Sprintf(`SELECT endpoint_id, tenant_id, %s FROM %s WHERE bucket >= $%d AND bucket < $%d`,
				cols, r.Span.Table(), len(args)+1, len(args)+2))
			args = append(args, r.From, r.To)
		}
		if len(parts) == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT endpoint_id, max(tenant_id), `+rollup.SumColumns+` FROM (`+
			strings.Join(parts, " UNION ALL ")+`) r GROUP BY endpoint_id ORDER BY endpoint_id`, args...)
		if err != nil {
			return err
		}
		var t hookd.EndpointTotals
		var c hookd.StatsCounts
		_, err = pgx.ForEachRow(rows, append([]any{&t.EndpointID, &t.TenantID}, rollup.ScanTargets(&c)...), func() error {
			t.Attempts, t.Succeeded, t.Failed, t.Latency = c.Attempts, c.Succeeded, c.Failed, c.Latency
			out = append(out, t)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stats by endpoint: %w", err)
	}
	return out, nil
}

// PurgeStats deletes, from each rollup table, at most limit minute rows
// older than minutesBefore — but none that RollupHours still recomputes
// hours from (rollup.KeepMinutes) — and at most limit hour rows older than
// hoursBefore, and returns how many rows it deleted in all.
func (s *Store) PurgeStats(ctx context.Context, minutesBefore, hoursBefore time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	total := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		redoFrom, err := readMark(ctx, tx, rollup.MarkRedo)
		if err != nil {
			return err
		}
		minutesBefore := rollup.KeepMinutes(minutesBefore, redoFrom)
		for _, t := range []struct {
			table, key string
			before     time.Time
		}{
			{"stat_minutes", "endpoint_id, bucket", minutesBefore},
			{"stat_minute_codes", "endpoint_id, bucket, code", minutesBefore},
			{"stat_hours", "endpoint_id, bucket", hoursBefore},
			{"stat_hour_codes", "endpoint_id, bucket, code", hoursBefore},
			{rollup.TenantHours, "tenant_id, bucket", hoursBefore},
			{rollup.TenantHourCodes, "tenant_id, bucket, code", hoursBefore},
			{rollup.OverallHours, "bucket", hoursBefore},
			{rollup.OverallHourCodes, "bucket, code", hoursBefore},
		} {
			if t.before.IsZero() { // no rollup run yet: every minute row is still to sum
				continue
			}
			// MATERIALIZED: the LIMIT holds whatever the plan (see leaseUnlimited).
			tag, err := tx.Exec(ctx, fmt.Sprintf(`WITH picked AS MATERIALIZED (
				SELECT %[2]s FROM %[1]s WHERE bucket < $1 ORDER BY bucket LIMIT $2 FOR UPDATE SKIP LOCKED)
				DELETE FROM %[1]s WHERE (%[2]s) IN (SELECT %[2]s FROM picked)`,
				t.table, t.key), ts(t.before), limit)
			if err != nil {
				return err
			}
			total += int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge stats: %w", err)
	}
	return total, nil
}
