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

// seriesColumns are the rollup columns a series read takes, of alias r,
// and seriesSums their sums.
var (
	seriesColumns = "r." + strings.Join(rollup.CountColumns, ", r.")
	seriesSums    = "sum(r." + strings.Join(rollup.CountColumns, "), sum(r.") + ")"
)

// StatsByEndpointSeries returns every endpoint's series over [since,
// until) (see hookd.Store): one query per part of the window
// (rollup.Split; the hours from the watermark on from the minute rows,
// rollup.FromMinutes), each driven by the endpoints so that it reads every
// endpoint's rows as one range of the rollup table's primary key (not row
// by row through the bucket index, and with no sort of the whole window).
// Rows as long as the bucket come as they are; shorter ones are summed per
// bucket in SQL (a part that falls in one bucket, such as the minutes of a
// partial hour, with no sort at all) and folded in Go.
func (s *Store) StatsByEndpointSeries(ctx context.Context, tenantID *string, since, until time.Time, bucket time.Duration) ([]hookd.EndpointSeries, error) {
	if err := rollup.CheckSeries(since, until, bucket); err != nil {
		return nil, err
	}
	since, until = rollup.Window(since, until)
	tenant, tenantArgs := "", []any(nil)
	if tenantID != nil {
		tenant, tenantArgs = " WHERE e.tenant_id = ?", []any{*tenantID}
	}
	b := rollup.NewSeriesBuilder(since, until, bucket)
	err := s.read(ctx, func(tx *sql.Tx) error {
		mark, err := hoursMark(ctx, tx)
		if err != nil {
			return err
		}
		for _, r := range rollup.FromMinutes(rollup.Split(since, until, bucket), mark) {
			args := append([]any{micros(r.From), micros(r.To)}, tenantArgs...)
			var q string
			switch from := fmt.Sprintf("FROM endpoints e CROSS JOIN %s r ON r.endpoint_id = e.id AND r.bucket >= ? AND r.bucket < ?%s",
				r.Span.Table(), tenant); {
			case r.Span.Duration() == bucket:
				q = fmt.Sprintf(`SELECT e.id, e.tenant_id, r.bucket, %s %s ORDER BY e.id, r.bucket`, seriesColumns, from)
			case b.Floor(r.From).Equal(b.Floor(r.To.Add(-time.Microsecond))):
				q = fmt.Sprintf(`SELECT e.id, e.tenant_id, min(r.bucket), %s %s GROUP BY e.id ORDER BY e.id`, seriesSums, from)
			default:
				q = fmt.Sprintf(`SELECT e.id, e.tenant_id, min(r.bucket), %s %s
					GROUP BY e.id, r.bucket - ((r.bucket %% ?) + ?) %% ? ORDER BY e.id, min(r.bucket)`, seriesSums, from)
				us := bucket.Microseconds()
				args = append(args, us, us, us)
			}
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return err
			}
			var id, tid string
			var start int64
			var c hookd.StatsCounts
			dest := append([]any{&id, &tid, &start}, rollup.ScanTargets(&c)...)
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return err
				}
				b.Add(id, tid, time.UnixMicro(start), &c)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stats by endpoint series: %w", err)
	}
	return b.Series(), nil
}
