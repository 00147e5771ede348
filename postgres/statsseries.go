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

// StatsByEndpointSeries returns every endpoint's counts per bucket over
// [since, until) in one query (see hookd.Store): the rows of each part of
// the window (rollup.Split; the hours from the watermark on from the
// minute rows, rollup.FromMinutes) are binned to their bucket (date_bin from the
// Unix epoch) and summed per endpoint and bucket.
func (s *Store) StatsByEndpointSeries(ctx context.Context, tenantID *string, since, until time.Time, bucket time.Duration) ([]hookd.EndpointSeries, error) {
	if err := rollup.CheckSeries(since, until, bucket); err != nil {
		return nil, err
	}
	since, until = rollup.Window(since, until)
	cols := strings.Join(rollup.CountColumns, ", ")
	args := []any{bucket.Microseconds()}
	tenant := ""
	if tenantID != nil {
		args = append(args, *tenantID)
		tenant = " AND tenant_id = $2"
	}
	b := rollup.NewSeriesBuilder(since, until, bucket)
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		mark, err := readHoursMark(ctx, tx)
		if err != nil {
			return err
		}
		var parts []string
		for _, r := range rollup.FromMinutes(rollup.Split(since, until, bucket), mark) {
			parts = append(parts, fmt.Sprintf(`SELECT endpoint_id, tenant_id,
				date_bin($1::bigint * interval '1 microsecond', bucket, timestamptz '1970-01-01 00:00:00+00') AS b, %s
				FROM %s WHERE bucket >= $%d AND bucket < $%d%s`, cols, r.Span.Table(), len(args)+1, len(args)+2, tenant))
			args = append(args, r.From, r.To)
		}
		if len(parts) == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT endpoint_id, max(tenant_id), b, `+rollup.SumColumns+` FROM (`+
			strings.Join(parts, " UNION ALL ")+`) r GROUP BY endpoint_id, b ORDER BY endpoint_id, b`, args...)
		if err != nil {
			return err
		}
		var id, tid string
		var start time.Time
		var c hookd.StatsCounts
		_, err = pgx.ForEachRow(rows, append([]any{&id, &tid, &start}, rollup.ScanTargets(&c)...), func() error {
			b.Add(id, tid, start, &c)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stats by endpoint series: %w", err)
	}
	return b.Series(), nil
}
