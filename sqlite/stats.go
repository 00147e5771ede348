package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
)

// Rollup upserts (prepared on the writer): add a batch's increments to the
// minute rows (RollupHours derives the endpoint hour rows from them).
var (
	qAddMinute      = addCountsQuery(rollup.Minute)
	qAddMinuteCodes = addCodesQuery(rollup.Minute)
)

func addCountsQuery(span rollup.Span) string {
	cols := strings.Join(rollup.CountColumns, ", ")
	marks := strings.Repeat(", ?", len(rollup.CountColumns))
	return fmt.Sprintf(`INSERT INTO %[1]s (endpoint_id, bucket, tenant_id, %[2]s) VALUES (?, ?, ?%[3]s)
		ON CONFLICT (endpoint_id, bucket) DO UPDATE SET %[4]s`,
		span.Table(), cols, marks, rollup.AddAssignments(span.Table()))
}

// qAddMinuteOne[i] is qAddMinute for a row whose latency is all in
// histogram bucket i (one attempt, or several of one latency class): it
// binds and adds 5 values instead of 28.
var qAddMinuteOne = func() []string {
	qs := make([]string, hookd.LatencyBuckets)
	for i := range qs {
		l := fmt.Sprintf("l%02d", i)
		t := rollup.Minute.Table()
		qs[i] = fmt.Sprintf(`INSERT INTO %[1]s (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, %[2]s) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (endpoint_id, bucket) DO UPDATE SET attempts = %[1]s.attempts + excluded.attempts,
			succeeded = %[1]s.succeeded + excluded.succeeded, failed = %[1]s.failed + excluded.failed, %[2]s = %[1]s.%[2]s + excluded.%[2]s`, t, l)
	}
	return qs
}()

func addCodesQuery(span rollup.Span) string {
	return fmt.Sprintf(`INSERT INTO %[1]s (endpoint_id, bucket, code, tenant_id, n) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (endpoint_id, bucket, code) DO UPDATE SET n = %[1]s.n + excluded.n`, span.CodesTable())
}

// addRollups writes a batch's rollup increments (minute rows) in the
// completion's transaction.
func (s *Store) addRollups(ctx context.Context, tx *sql.Tx, rows []*rollup.Row) error {
	for _, r := range rows {
		var err error
		if i, ok := r.OneBucket(); ok {
			_, err = s.exec(ctx, tx, qAddMinuteOne[i], r.EndpointID, micros(r.Start), r.TenantID, r.Attempts, r.Succeeded, r.Failed, r.Latency[i])
		} else {
			_, err = s.exec(ctx, tx, qAddMinute, append([]any{r.EndpointID, micros(r.Start), r.TenantID}, r.Values()...)...)
		}
		if err != nil {
			return fmt.Errorf("add stats: %w", err)
		}
		for _, code := range r.SortedCodes() {
			if _, err := s.exec(ctx, tx, qAddMinuteCodes, r.EndpointID, micros(r.Start), code, r.TenantID, r.Codes[code]); err != nil {
				return fmt.Errorf("add stats codes: %w", err)
			}
		}
	}
	return nil
}

// deleteRollups deletes the stats rollups of an endpoint (DeleteEndpoint).
func deleteRollups(ctx context.Context, tx *sql.Tx, endpointID string) error {
	if err := subtractRollups(ctx, tx, endpointID); err != nil {
		return err
	}
	for _, t := range []string{"stat_minutes", "stat_minute_codes", "stat_hours", "stat_hour_codes"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE endpoint_id = ?`, endpointID); err != nil {
			return fmt.Errorf("delete stats: %w", err)
		}
	}
	return nil
}

// WatchCircuits makes fn receive every circuit transition (see
// hookd.CircuitWatcher).
func (s *Store) WatchCircuits(fn func(hookd.CircuitChange)) { s.circuits.Set(fn) }

// scope is the WHERE clause of a stats read and its argument.
func scope(q hookd.StatsQuery, idColumn string) (string, []any) {
	switch {
	case q.EndpointID != "":
		return idColumn + " = ?", []any{q.EndpointID}
	case q.TenantID != nil:
		return "tenant_id = ?", []any{*q.TenantID}
	}
	// Overall: not hookd's own deliveries. The unary + keeps SQLite from
	// reading this through the tenant index (nearly every row of it):
	// the bucket range is the index to use.
	return "+tenant_id <> ?", []any{hookd.SystemTenant}
}

// ReadStats sums the rollups of q's window (see hookd.Store): whole hours
// below the watermark of RollupHours from the hour rows (a tenant's or the
// overall from the summed rows), the rest from minute rows, in one read
// transaction.
func (s *Store) ReadStats(ctx context.Context, q hookd.StatsQuery) (*hookd.Stats, error) {
	if err := rollup.Check(q.Since, q.Until, q.Bucket); err != nil {
		return nil, err
	}
	st := &hookd.Stats{StatusCodes: map[int]int64{}}
	st.Since, st.Until = rollup.Window(q.Since, q.Until)
	where, args := scope(q, "endpoint_id")
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := readEndpoints(ctx, tx, q, st); err != nil {
			return err
		}
		var parts, codeParts []string
		var partArgs []any
		mark, err := hoursMark(ctx, tx)
		if err != nil {
			return err
		}
		ranges := rollup.Split(st.Since, st.Until, q.Bucket)
		if q.EndpointID == "" { // a tenant or overall: the summed hours below the watermark
			ranges = rollup.SplitSummed(ranges, mark, q.Bucket)
		}
		ranges = rollup.FromMinutes(ranges, mark) // the hours from the watermark on: minute rows
		for _, r := range ranges {
			table, codes, w, a := r.Span.Table(), r.Span.CodesTable(), where, args
			switch {
			case r.Span == rollup.Summed && q.TenantID != nil:
				table, codes = rollup.TenantHours, rollup.TenantHourCodes
			case r.Span == rollup.Summed:
				table, codes, w, a = rollup.OverallHours, rollup.OverallHourCodes, "1 = 1", nil
			}
			sums, sumN := rollup.SumColumns, "sum(n)"
			if r.Neg { // subtracted: the rest of an hour read whole (rollup.SplitSummed)
				sums, sumN = rollup.NegSumColumns, "-sum(n)"
			}
			if r.Span == rollup.Summed {
				// One row per bucket (and tenant): taken as it is, not summed.
				parts = append(parts, fmt.Sprintf(`SELECT bucket, %s FROM %s WHERE %s AND bucket >= ? AND bucket < ?`,
					rollup.Columns, table, w))
				codeParts = append(codeParts, fmt.Sprintf(`SELECT code, sum(n) FROM %s WHERE %s AND bucket >= ? AND bucket < ? GROUP BY code`,
					codes, w))
				partArgs = append(append(partArgs, a...), micros(r.From), micros(r.To))
				continue
			}
			if r.Span == rollup.Minute && q.EndpointID == "" && q.TenantID == nil {
				dense, err := denseMinutes(ctx, tx, r, st.Endpoints)
				if err != nil {
					return err
				}
				if !dense {
					// Fewer rows than endpoints (an idle stretch, the
					// minute just begun): through the bucket index, one
					// lookup per row.
					parts = append(parts, fmt.Sprintf(`SELECT bucket, %s FROM %s INDEXED BY stat_minutes_bucket
						WHERE bucket >= ? AND bucket < ? AND tenant_id <> ? GROUP BY bucket`, sums, table))
					codeParts = append(codeParts, fmt.Sprintf(`SELECT code, %s FROM %s INDEXED BY stat_minute_codes_bucket
						WHERE bucket >= ? AND bucket < ? AND tenant_id <> ? GROUP BY code`, sumN, codes))
					partArgs = append(partArgs, micros(r.From), micros(r.To), hookd.SystemTenant)
					continue
				}
				// Overall minute rows (a partial hour of every endpoint):
				// driven by the endpoints, one primary-key range each, not
				// one index lookup per row. Deleted endpoints have no rows.
				parts = append(parts, fmt.Sprintf(`SELECT r.bucket, %s FROM endpoints e CROSS JOIN %s r
					ON r.endpoint_id = e.id AND r.bucket >= ? AND r.bucket < ? WHERE r.tenant_id <> ? GROUP BY r.bucket`,
					strings.ReplaceAll(sums, "sum(", "sum(r."), table))
				codeParts = append(codeParts, fmt.Sprintf(`SELECT r.code, %s FROM endpoints e CROSS JOIN %s r
					ON r.endpoint_id = e.id AND r.bucket >= ? AND r.bucket < ? WHERE r.tenant_id <> ? GROUP BY r.code`,
					strings.ReplaceAll(sumN, "sum(", "sum(r."), codes))
				partArgs = append(partArgs, micros(r.From), micros(r.To), hookd.SystemTenant)
				continue
			}
			parts = append(parts, fmt.Sprintf(`SELECT bucket, %s FROM %s WHERE %s AND bucket >= ? AND bucket < ? GROUP BY bucket`,
				sums, table, w))
			codeParts = append(codeParts, fmt.Sprintf(`SELECT code, %s FROM %s WHERE %s AND bucket >= ? AND bucket < ? GROUP BY code`,
				sumN, codes, w))
			partArgs = append(append(partArgs, a...), micros(r.From), micros(r.To))
		}
		if len(parts) == 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, strings.Join(parts, " UNION ALL "), partArgs...)
		if err != nil {
			return fmt.Errorf("read rollups: %w", err)
		}
		var sums []rollup.Sum
		for rows.Next() {
			var sum rollup.Sum
			var start int64
			if err := rows.Scan(append([]any{&start}, rollup.ScanTargets(&sum.StatsCounts)...)...); err != nil {
				rows.Close()
				return fmt.Errorf("read rollups: %w", err)
			}
			sum.Start = fromMicros(start)
			sums = append(sums, sum)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read rollups: %w", err)
		}
		rollup.Fold(st, sums, q.Bucket)
		rows, err = tx.QueryContext(ctx, strings.Join(codeParts, " UNION ALL "), partArgs...)
		if err != nil {
			return fmt.Errorf("read status codes: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var code int
			var n int64
			if err := rows.Scan(&code, &n); err != nil {
				return fmt.Errorf("read status codes: %w", err)
			}
			st.StatusCodes[code] += n
		}
		for code, n := range st.StatusCodes {
			if n == 0 { // all subtracted again (rollup.SplitSummed)
				delete(st.StatusCodes, code)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read stats: %w", err)
	}
	if q.Bucket == 0 {
		st.Series = nil
	}
	return st, nil
}

// denseMinutes says whether the minute rows of r number at least
// endpoints (an index-only count through stat_minutes_bucket, stopped
// there): then the overall read takes them endpoint by endpoint, one
// primary-key range each, else row by row through the bucket index.
func denseMinutes(ctx context.Context, tx *sql.Tx, r rollup.Range, endpoints int) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM stat_minutes INDEXED BY stat_minutes_bucket
		WHERE bucket >= ? AND bucket < ? LIMIT ?)`, micros(r.From), micros(r.To), endpoints).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("count minute rows: %w", err)
	}
	return n >= endpoints, nil
}

// readEndpoints fills the endpoint figures of st: circuits, latest error,
// pending and dead counts (through the partial indexes of deliveries).
func readEndpoints(ctx context.Context, tx *sql.Tx, q hookd.StatsQuery, st *hookd.Stats) error {
	where, args := scope(q, "id")
	rows, err := tx.QueryContext(ctx, `SELECT circuit_state, circuit_failures, circuit_open_until, circuit_opens,
		last_error, last_error_at FROM endpoints WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("read endpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e rollup.Endpoint
		var state string
		var openUntil, lastAt int64
		if err := rows.Scan(&state, &e.Circuit.ConsecutiveFailures, &openUntil, &e.Circuit.Opens, &e.LastError, &lastAt); err != nil {
			return fmt.Errorf("read endpoints: %w", err)
		}
		e.Circuit.State, e.Circuit.OpenUntil, e.LastErrorAt = hookd.CircuitState(state), fromMicros(openUntil), fromMicros(lastAt)
		rollup.AddEndpoint(st, &e)
		st.Circuit = e.Circuit
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read endpoints: %w", err)
	}
	rows.Close()
	if q.EndpointID != "" && st.Endpoints == 0 {
		return hookd.Errorf(hookd.ENOTFOUND, "endpoint %s not found", q.EndpointID)
	}
	if q.EndpointID == "" {
		st.Circuit = hookd.Circuit{}
	}
	var count string
	switch {
	case q.EndpointID != "":
		count = `SELECT (SELECT count(*) FROM deliveries WHERE endpoint_id = ?1 AND status = 'pending'),
			(SELECT count(*) FROM deliveries WHERE endpoint_id = ?1 AND status = 'dead')`
	case q.TenantID != nil:
		count = `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'
				AND endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = ?1)),
			(SELECT count(*) FROM deliveries WHERE status = 'dead'
				AND endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = ?1))`
	default:
		count = `SELECT (SELECT count(*) FROM deliveries WHERE status = 'pending'
				AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE tenant_id = ?1)),
			(SELECT count(*) FROM deliveries WHERE status = 'dead'
				AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE tenant_id = ?1))`
	}
	if err := tx.QueryRowContext(ctx, count, args...).Scan(&st.Pending, &st.Dead); err != nil {
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
	err := s.read(ctx, func(tx *sql.Tx) error {
		mark, err := hoursMark(ctx, tx)
		if err != nil {
			return err
		}
		var parts []string
		var args []any
		for _, r := range rollup.FromMinutes(rollup.Split(since, until, 0), mark) {
			parts = append(parts, fmt.Sprintf(`SELECT endpoint_id, tenant_id, %s FROM %s WHERE bucket >= ? AND bucket < ?`, cols, r.Span.Table()))
			args = append(args, micros(r.From), micros(r.To))
		}
		if len(parts) == 0 {
			return nil
		}
		rows, err := tx.QueryContext(ctx, `SELECT endpoint_id, max(tenant_id), `+rollup.SumColumns+` FROM (`+
			strings.Join(parts, " UNION ALL ")+`) GROUP BY endpoint_id ORDER BY endpoint_id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t hookd.EndpointTotals
			var c hookd.StatsCounts
			if err := rows.Scan(append([]any{&t.EndpointID, &t.TenantID}, rollup.ScanTargets(&c)...)...); err != nil {
				return err
			}
			t.Attempts, t.Succeeded, t.Failed, t.Latency = c.Attempts, c.Succeeded, c.Failed, c.Latency
			out = append(out, t)
		}
		return rows.Err()
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
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
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
			res, err := tx.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %[1]s WHERE (%[2]s) IN (
				SELECT %[2]s FROM %[1]s WHERE bucket < ? ORDER BY bucket LIMIT ?)`, t.table, t.key), micros(t.before), limit)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge stats: %w", err)
	}
	return total, nil
}
