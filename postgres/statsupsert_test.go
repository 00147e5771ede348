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
// wants the same rows in all four tables.
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
	for _, table := range []string{"stat_minutes", "stat_minute_codes", "stat_hours", "stat_hour_codes"} {
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
	var attempts int64
	if err := s.pool.QueryRow(ctx, `SELECT attempts FROM stat_hours WHERE endpoint_id = 'ep_one'`).Scan(&attempts); err != nil || attempts != 6 {
		t.Errorf("hour row: %d attempts (%v), want 6", attempts, err)
	}
	if oneEndpointMinute(append(batch("ep_a"), batch("ep_b")...)) {
		t.Error("two endpoints take the one statement")
	}
}

func containsOnce(s, sub string) bool { return strings.Count(s, sub) == 1 }

func replaceID(s string) string { return strings.ReplaceAll(s, "ep_tables", "ep_one") }
