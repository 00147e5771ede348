package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	"github.com/jackc/pgx/v5"
)

// TestRollupUpsertForms writes the same increments through the one
// statement of a one-endpoint, one-minute, one-code batch and through the
// table-by-table upserts, twice each (the second time an update), and
// wants the same rows in both minute tables and no hour row (RollupHours
// writes those).
func TestRollupUpsertForms(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 17, 5, 0, time.UTC)
	batch := func(ep string) []*rollup.Row {
		var b rollup.Batch
		for i, l := range []time.Duration{time.Millisecond, 300 * time.Millisecond, 2 * time.Second} {
			b.Add(ep, "t1", &hookd.Attempt{StartedAt: at.Add(time.Duration(i) * time.Second), StatusCode: 503, Latency: l}, false)
		}
		return b.Rows()
	}
	for range 2 {
		one, tables := batch("ep_one"), batch("ep_tables")
		if !oneEndpointMinute(one) {
			t.Fatal("a batch of one endpoint, minute and code does not take the one statement")
		}
		b := &pgx.Batch{}
		queueRollups(b, one)
		queueTables(b, tables)
		if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range []string{"stat_minutes", "stat_minute_codes"} {
		var rows [2]string
		for i, ep := range []string{"ep_one", "ep_tables"} {
			err := s.pool.QueryRow(ctx, `SELECT string_agg(to_jsonb(r)::text, ';' ORDER BY r.bucket)
				FROM (SELECT * FROM `+table+` WHERE endpoint_id = $1) r`, ep).Scan(&rows[i])
			if err != nil {
				t.Fatal(err)
			}
		}
		if want := `"endpoint_id": "ep_tables"`; rows[1] == "" || !containsOnce(rows[1], want) {
			t.Fatalf("%s: table-by-table row %q", table, rows[1])
		}
		if got, want := rows[0], replaceID(rows[1]); got != want {
			t.Errorf("%s:\n got %s\nwant %s", table, got, want)
		}
	}
	var attempts, hours int64
	if err := s.pool.QueryRow(ctx, `SELECT attempts FROM stat_minutes WHERE endpoint_id = 'ep_one'`).Scan(&attempts); err != nil || attempts != 6 {
		t.Errorf("minute row: %d attempts (%v), want 6", attempts, err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM stat_hours) + (SELECT count(*) FROM stat_hour_codes)`).Scan(&hours); err != nil || hours != 0 {
		t.Errorf("hour rows written with the attempts: %d (%v), want none", hours, err)
	}
	if oneEndpointMinute(append(batch("ep_a"), batch("ep_b")...)) {
		t.Error("two endpoints take the one statement")
	}
	var two rollup.Batch
	two.Add("ep_a", "t1", &hookd.Attempt{StartedAt: at, StatusCode: 200}, true)
	two.Add("ep_a", "t1", &hookd.Attempt{StartedAt: at, StatusCode: 500}, false)
	if oneEndpointMinute(two.Rows()) {
		t.Error("two status codes take the one statement")
	}
}

func containsOnce(s, sub string) bool { return strings.Count(s, sub) == 1 }

func replaceID(s string) string { return strings.ReplaceAll(s, "ep_tables", "ep_one") }

// TestRollupReplacesOldHourRows: an endpoint hour row written with the
// attempts by the code before (the hour at the watermark; here it says 5
// where the minutes say 1) is not read, and the first RollupHours over its
// hour replaces it with the sum of the minute rows. No migration needed.
func TestRollupReplacesOldHourRows(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	h := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var rb rollup.Batch
	rb.Add("ep_old", "t1", &hookd.Attempt{StartedAt: h.Add(17 * time.Minute), StatusCode: 200, Latency: time.Millisecond}, true)
	b := &pgx.Batch{}
	queueRollups(b, rb.Rows())
	b.Queue(`INSERT INTO stat_hours (endpoint_id, bucket, tenant_id, attempts, succeeded, failed) VALUES ('ep_old', $1, 't1', 5, 5, 0)`, h)
	b.Queue(`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n) VALUES ('ep_old', $1, 200, 't1', 5)`, h)
	b.Queue(`INSERT INTO stat_rollup_marks (name, up_to) VALUES ($1, $2)`, rollup.MarkHours, h)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	read := func(what string) {
		t.Helper()
		ts, err := s.StatsByEndpoint(ctx, h, h.Add(time.Hour))
		if err != nil || len(ts) != 1 || ts[0].Attempts != 1 {
			t.Errorf("%s: StatsByEndpoint %+v, %v; want 1 attempt", what, ts, err)
		}
	}
	read("the old hour row at the watermark")
	if m, err := s.RollupHours(ctx, h.Add(time.Hour), 2*time.Hour, 24*time.Hour); err != nil || !m.Equal(h.Add(time.Hour)) {
		t.Fatalf("RollupHours: %s, %v", m, err)
	}
	read("below the watermark: the recomputed hour row")
	var attempts, n int64
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT attempts FROM stat_hours WHERE endpoint_id = 'ep_old'),
		(SELECT n FROM stat_hour_codes WHERE endpoint_id = 'ep_old')`).Scan(&attempts, &n); err != nil || attempts != 1 || n != 1 {
		t.Errorf("hour row after RollupHours: %d attempts, code count %d (%v); want 1, 1", attempts, n, err)
	}
}
