package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/sqlite"
)

// seedRollups writes the rollup rows of `days` days of traffic to every
// endpoint of the file directly (no attempts): per endpoint and minute 12
// attempts (11 × 200 in 40-50 ms, 1 × 500 in 75-100 ms), and the matching
// hour rows. It returns the number of attempts they stand for.
func seedRollups(tb testing.TB, path string, eps int, days int, end time.Time) int64 {
	tb.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	for range eps {
		e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, time.Now()), TenantID: "t",
			URL: "https://example.com/hook", Secret: hookd.NewSecret(), CreatedAt: end, UpdatedAt: end}
		if err := s.CreateEndpoint(ctx, e); err != nil {
			tb.Fatal(err)
		}
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	start := end.Add(-time.Duration(days) * 24 * time.Hour).UnixMicro()
	minutes, hours := days*24*60, days*24
	for _, q := range []struct {
		sql string
		n   int
		us  int64
		k   int64 // attempts per row / 12
	}{
		{`INSERT INTO stat_minutes (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l06, l07)
			SELECT e.id, ?2 + m.i * ?3, 't', 12 * ?4, 11 * ?4, ?4, 11 * ?4, ?4 FROM m, endpoints e`, minutes, 60e6, 1},
		{`INSERT INTO stat_minute_codes (endpoint_id, bucket, code, tenant_id, n)
			SELECT e.id, ?2 + m.i * ?3, c.code, 't', CASE c.code WHEN 200 THEN 11 * ?4 ELSE ?4 END
			FROM m, endpoints e, (SELECT 200 AS code UNION ALL SELECT 500) c`, minutes, 60e6, 1},
		{`INSERT INTO stat_hours (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l06, l07)
			SELECT e.id, ?2 + m.i * ?3, 't', 12 * ?4, 11 * ?4, ?4, 11 * ?4, ?4 FROM m, endpoints e`, hours, 3600e6, 60},
		{`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n)
			SELECT e.id, ?2 + m.i * ?3, c.code, 't', CASE c.code WHEN 200 THEN 11 * ?4 ELSE ?4 END
			FROM m, endpoints e, (SELECT 200 AS code UNION ALL SELECT 500) c`, hours, 3600e6, 60},
	} {
		_, err := db.ExecContext(ctx, `WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < ?1 - 1) `+q.sql,
			q.n, start, q.us, q.k)
		if err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	return int64(eps) * int64(minutes) * 12
}

// TestStatsReadGeneratedSmoke is the small version of
// BenchmarkReadStats30Days: the generated rows read back exactly.
func TestStatsReadGeneratedSmoke(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookd.db")
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	want := seedRollups(t, path, 2, 3, end)
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.ReadStats(t.Context(), hookd.StatsQuery{Since: end.Add(-72*time.Hour + 30*time.Minute), Until: end, Bucket: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want -= 2 * 30 * 12 // the first half hour is outside the window
	if st.Attempts != want || st.StatusCodes[200]+st.StatusCodes[500] != want || len(st.Series) != 72 {
		t.Errorf("got %d attempts, codes %v, %d buckets; want %d, 72 buckets", st.Attempts, st.StatusCodes, len(st.Series), want)
	}
}

// BenchmarkReadStats30Days reads a 30-day window (1h buckets, the API's
// default) over rollups standing for 10.4 million attempts: 20 endpoints,
// 12 attempts a minute each. Seeding takes a while; run it with
// go test ./sqlite -run '^$' -bench ReadStats30Days.
func BenchmarkReadStats30Days(b *testing.B) {
	path := filepath.Join(b.TempDir(), "hookd.db")
	end := time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC) // a partial minute: the read uses both tables
	total := seedRollups(b, path, 20, 31, end)
	b.Logf("seeded rollups of %d attempts over 31 days", total)
	s, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	eps, _, err := s.ListEndpoints(b.Context(), nil, hookd.Page{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	since, until := hookd.StatsWindow(end, hookd.MaxStatsWindow)
	for _, c := range []struct {
		name string
		q    hookd.StatsQuery
	}{
		{"overall", hookd.StatsQuery{Since: since, Until: until, Bucket: time.Hour}},
		{"endpoint", hookd.StatsQuery{EndpointID: eps[0].ID, Since: since, Until: until, Bucket: time.Hour}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				st, err := s.ReadStats(b.Context(), c.q)
				if err != nil {
					b.Fatal(err)
				}
				if st.Attempts == 0 {
					b.Fatal("no attempts read")
				}
			}
		})
	}
	b.Run("by-endpoint", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.StatsByEndpoint(b.Context(), since, until); err != nil {
				b.Fatal(err)
			}
		}
	})
}
