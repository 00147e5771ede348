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
//
// A minute row carries the count of one status code itself, the first
// code it was written with (code1, n1; migration 0008; -1 and 0 on rows
// written before), and the upsert returns code1:
// the other codes of the minute go to stat_minute_codes. An endpoint's
// attempts in one minute mostly share one code, so a completion mostly
// writes one rollup row, not two (a statement and a WAL page fewer: on
// single-event ingest the codes upsert was about 40% of the rollup
// write). Every read of the minute codes takes both (codeArms).
var (
	qAddMinute      = addMinuteQuery()
	qAddMinuteCodes = addCodesQuery(rollup.Minute)
)

// addMinuteQuery is the minute upsert adding to every count column
// (rollup.CountColumns), then code1 and n1; it returns code1.
func addMinuteQuery() string {
	t, cols := rollup.Minute.Table(), rollup.CountColumns
	add := make([]string, len(cols))
	for i, c := range cols {
		add[i] = fmt.Sprintf("%[2]s = %[1]s.%[2]s + excluded.%[2]s", t, c)
	}
	return fmt.Sprintf(`INSERT INTO %[1]s (endpoint_id, bucket, tenant_id, %[2]s, code1, n1) VALUES (?, ?, ?%[3]s, ?, ?)
		ON CONFLICT (endpoint_id, bucket) DO UPDATE SET %[4]s,
			n1 = %[1]s.n1 + CASE WHEN %[1]s.code1 IN (-1, excluded.code1) THEN excluded.n1 ELSE 0 END,
			code1 = CASE WHEN %[1]s.code1 = -1 THEN excluded.code1 ELSE %[1]s.code1 END
		RETURNING code1`, t, strings.Join(cols, ", "), strings.Repeat(", ?", len(cols)), strings.Join(add, ", "))
}

func addCodesQuery(span rollup.Span) string {
	return fmt.Sprintf(`INSERT INTO %[1]s (endpoint_id, bucket, code, tenant_id, n) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (endpoint_id, bucket, code) DO UPDATE SET n = %[1]s.n + excluded.n`, span.CodesTable())
}

// addRollups writes a batch's rollup increments (minute rows) in the
// completion's transaction: each row's commonest code rides on the minute
// row when it is the row's code1 (or the row is new), the other codes go
// to stat_minute_codes.
func (s *Store) addRollups(ctx context.Context, tx *sql.Tx, rows []*rollup.Row) error {
	for _, r := range rows {
		top, ok := r.TopCode()
		if !ok {
			continue // no attempt (a Batch row always has one)
		}
		args := append([]any{r.EndpointID, micros(r.Start), r.TenantID}, r.Values()...)
		var code1 int
		if err := s.queryRow(ctx, tx, qAddMinute, append(args, top, r.Codes[top])...).Scan(&code1); err != nil {
			return fmt.Errorf("add stats: %w", err)
		}
		for _, code := range r.SortedCodes() {
			if code == top && code1 == top {
				continue // counted in n1
			}
			if _, err := s.exec(ctx, tx, qAddMinuteCodes, r.EndpointID, micros(r.Start), code, r.TenantID, r.Codes[code]); err != nil {
				return fmt.Errorf("add stats codes: %w", err)
			}
		}
	}
	return nil
}

// codeArms expands a status code query for one read part: tmpl is a
// SELECT over table {codes}, its code columns written {code} and {n}, {own}
// ending its WHERE clause. The minute span has two arms, stat_minute_codes
// and the minute rows' own code (code1, n1, where set; see qAddMinute);
// every other span one, on table.
func codeArms(span rollup.Span, table, tmpl string) []string {
	if span != rollup.Minute {
		return []string{strings.NewReplacer("{codes}", table, "{code}", "code", "{n}", "n", "{own}", "").Replace(tmpl)}
	}
	return []string{
		strings.NewReplacer("{codes}", "stat_minute_codes", "{code}", "code", "{n}", "n", "{own}", "").Replace(tmpl),
		strings.NewReplacer("{codes}", "stat_minutes", "{code}", "code1", "{n}", "n1", "{own}", " AND n1 <> 0").Replace(tmpl),
	}
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
		var partArgs, codeArgs []any
		addCodes := func(span rollup.Span, table, tmpl string, args ...any) {
			for _, arm := range codeArms(span, table, tmpl) {
				codeParts = append(codeParts, arm)
				codeArgs = append(codeArgs, args...)
			}
		}
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
			sums, sumN := rollup.SumColumns, "sum({n})"
			if r.Neg { // subtracted: the rest of an hour read whole (rollup.SplitSummed)
				sums, sumN = rollup.NegSumColumns, "-sum({n})"
			}
			window := append(a[:len(a):len(a)], micros(r.From), micros(r.To))
			if r.Span == rollup.Summed {
				// One row per bucket (and tenant): taken as it is, not summed.
				parts = append(parts, fmt.Sprintf(`SELECT bucket, %s FROM %s WHERE %s AND bucket >= ? AND bucket < ?`,
					rollup.Columns, table, w))
				partArgs = append(partArgs, window...)
				addCodes(r.Span, codes, `SELECT {code}, sum({n}) FROM {codes} WHERE `+w+` AND bucket >= ? AND bucket < ?{own} GROUP BY {code}`, window...)
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
					partArgs = append(partArgs, micros(r.From), micros(r.To), hookd.SystemTenant)
					addCodes(r.Span, codes, `SELECT {code}, `+sumN+` FROM {codes} INDEXED BY {codes}_bucket
						WHERE bucket >= ? AND bucket < ? AND tenant_id <> ?{own} GROUP BY {code}`, micros(r.From), micros(r.To), hookd.SystemTenant)
					continue
				}
				// Overall minute rows (a partial hour of every endpoint):
				// driven by the endpoints, one primary-key range each, not
				// one index lookup per row. Deleted endpoints have no rows.
				parts = append(parts, fmt.Sprintf(`SELECT r.bucket, %s FROM endpoints e CROSS JOIN %s r
					ON r.endpoint_id = e.id AND r.bucket >= ? AND r.bucket < ? WHERE r.tenant_id <> ? GROUP BY r.bucket`,
					strings.ReplaceAll(sums, "sum(", "sum(r."), table))
				partArgs = append(partArgs, micros(r.From), micros(r.To), hookd.SystemTenant)
				addCodes(r.Span, codes, `SELECT r.{code}, `+strings.ReplaceAll(sumN, "sum(", "sum(r.")+` FROM endpoints e CROSS JOIN {codes} r
					ON r.endpoint_id = e.id AND r.bucket >= ? AND r.bucket < ? WHERE r.tenant_id <> ?{own} GROUP BY r.{code}`,
					micros(r.From), micros(r.To), hookd.SystemTenant)
				continue
			}
			parts = append(parts, fmt.Sprintf(`SELECT bucket, %s FROM %s WHERE %s AND bucket >= ? AND bucket < ? GROUP BY bucket`,
				sums, table, w))
			partArgs = append(partArgs, window...)
			addCodes(r.Span, codes, `SELECT {code}, `+sumN+` FROM {codes} WHERE `+w+` AND bucket >= ? AND bucket < ?{own} GROUP BY {code}`, window...)
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
		rows, err = tx.QueryContext(ctx, strings.Join(codeParts, " UNION ALL "), codeArgs...)
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
