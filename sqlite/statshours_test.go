package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/rollup"
	"github.com/hookd/hookd/sqlite"
)

// TestRollupReplacesOldHourRows: an endpoint hour row written with the
// attempts by the code before (the hour at the watermark; here it says 5
// where the minutes say 1) is not read, and the first RollupHours over its
// hour replaces it with the sum of the minute rows. No migration needed.
func TestRollupReplacesOldHourRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	h := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO stat_minutes (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l00) VALUES ('ep_old', ?, 't1', 1, 1, 0, 1)`,
			[]any{h.Add(17 * time.Minute).UnixMicro()}},
		{`INSERT INTO stat_minute_codes (endpoint_id, bucket, code, tenant_id, n) VALUES ('ep_old', ?, 200, 't1', 1)`,
			[]any{h.Add(17 * time.Minute).UnixMicro()}},
		{`INSERT INTO stat_hours (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l00) VALUES ('ep_old', ?, 't1', 5, 5, 0, 5)`,
			[]any{h.UnixMicro()}},
		{`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n) VALUES ('ep_old', ?, 200, 't1', 5)`, []any{h.UnixMicro()}},
		{`INSERT INTO stat_rollup_marks (name, up_to) VALUES (?, ?)`, []any{rollup.MarkHours, h.UnixMicro()}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	read := func(what string) {
		t.Helper()
		ts, err := s.StatsByEndpoint(ctx, h, h.Add(time.Hour))
		if err != nil || len(ts) != 1 || ts[0].Attempts != 1 || ts[0].Latency.Count() != 1 {
			t.Errorf("%s: StatsByEndpoint %+v, %v; want 1 attempt", what, ts, err)
		}
	}
	read("the old hour row at the watermark")
	if m, err := s.RollupHours(ctx, h.Add(time.Hour), 2*time.Hour, 24*time.Hour); err != nil || !m.Equal(h.Add(time.Hour)) {
		t.Fatalf("RollupHours: %s, %v", m, err)
	}
	read("below the watermark: the recomputed hour row")
}
