package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	"github.com/hookd/hookd/sqlite"
)

// statsSet is a generated stats data set: eps endpoints spread over
// tenants, days of hour rows ending at end, perHour attempts per endpoint
// and hour (perHour/60 a minute when it is a multiple of 60, else one a
// minute in the hour's first perHour minutes; one in twelve fails, or the
// last of the hour). Minute rows are written only where a read of the last
// 30 days (or of the whole set, when shorter) takes them: the first hour
// of the window and the last two hours.
type statsSet struct {
	eps, tenants, days, perHour int
	end                         time.Time // a whole hour
}

func (s statsSet) hours() int { return s.days * 24 }

func (s statsSet) start() time.Time { return s.end.Add(-time.Duration(s.hours()) * time.Hour) }

// attempts is how many attempts the set stands for.
func (s statsSet) attempts() int64 { return int64(s.eps) * int64(s.hours()) * int64(s.perHour) }

// minuteHours are the hour indexes (from start) that get minute rows.
func (s statsSet) minuteHours() []int {
	h := s.hours()
	out := []int{max(0, h-721)}
	if h-720 > 0 {
		out = append(out, h-720)
	}
	return append(out, h-2, h-1)
}

// perMinute is the attempts and failures of minute i (0..59) of an hour.
func (s statsSet) perMinute(i int) (attempts, failed int) {
	if s.perHour >= 60 {
		m := s.perHour / 60
		return m, m / 12
	}
	if i >= s.perHour {
		return 0, 0
	}
	if i == s.perHour-1 {
		return 1, 1
	}
	return 1, 0
}

func (s statsSet) hourFailed() int {
	f := 0
	for i := range 60 {
		_, x := s.perMinute(i)
		f += x
	}
	return f
}

// seedStats writes the set to the database file at path directly (no
// attempts), endpoints through the store, as the stats-rollup job leaves
// it at end (watermark end): the endpoint hour rows, the minute rows of
// statsSet.minuteHours (the last two hours among them: a job run
// recomputes their hour rows from them) and the summed rows.
func seedStats(tb testing.TB, path string, set statsSet) {
	tb.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range set.eps {
		e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, time.Now()), TenantID: fmt.Sprintf("t%02d", i%set.tenants),
			URL: "https://example.com/hook", Secret: hookd.NewSecret(), CreatedAt: set.end, UpdatedAt: set.end}
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
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	exec := func(q string, args ...any) {
		tb.Helper()
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			tb.Fatal(err)
		}
	}
	n, f := set.perHour, set.hourFailed()
	start := set.start().UnixMicro()
	hours := `WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i < ?1 - 1) `
	exec(hours+`INSERT INTO stat_hours (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l06, l07)
		SELECT e.id, ?2 + h.i * 3600000000, e.tenant_id, ?3, ?3 - ?4, ?4, ?3 - ?4, ?4 FROM h, endpoints e`, set.hours(), start, n, f)
	exec(hours+`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n)
		SELECT e.id, ?2 + h.i * 3600000000, 200, e.tenant_id, ?3 - ?4 FROM h, endpoints e`, set.hours(), start, n, f)
	exec(hours+`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n)
		SELECT e.id, ?2 + h.i * 3600000000, 500, e.tenant_id, ?3 FROM h, endpoints e`, set.hours(), start, f)
	for _, h := range set.minuteHours() {
		for i := range 60 {
			a, x := set.perMinute(i)
			if a == 0 {
				continue
			}
			at := start + int64(h)*3600e6 + int64(i)*60e6
			// As the completions write them: the minute's first code (200
			// unless it has only failures) in the minute row, the other
			// in stat_minute_codes.
			exec(`INSERT INTO stat_minutes (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l06, l07, code1, n1)
				SELECT id, ?1, tenant_id, ?2, ?2 - ?3, ?3, ?2 - ?3, ?3, CASE WHEN ?2 > ?3 THEN 200 ELSE 500 END,
					CASE WHEN ?2 > ?3 THEN ?2 - ?3 ELSE ?3 END FROM endpoints`, at, a, x)
			exec(`INSERT INTO stat_minute_codes (endpoint_id, bucket, code, tenant_id, n)
				SELECT id, ?1, 500, tenant_id, ?3 FROM endpoints WHERE ?2 > ?3 AND ?3 > 0`, at, a, x)
		}
	}
	// What RollupHours leaves once it has run up to end: the summed rows
	// of the endpoint hour rows, its watermark and redo mark.
	for _, q := range []string{
		`INSERT INTO ` + rollup.TenantHours + ` (tenant_id, bucket, ` + rollup.Columns + `)
			SELECT tenant_id, bucket, ` + rollup.SumColumns + ` FROM stat_hours GROUP BY tenant_id, bucket`,
		`INSERT INTO ` + rollup.TenantHourCodes + ` (tenant_id, bucket, code, n)
			SELECT tenant_id, bucket, code, sum(n) FROM stat_hour_codes GROUP BY tenant_id, bucket, code`,
		`INSERT INTO ` + rollup.OverallHours + ` (bucket, ` + rollup.Columns + `)
			SELECT bucket, ` + rollup.SumColumns + ` FROM ` + rollup.TenantHours + ` GROUP BY bucket`,
		`INSERT INTO ` + rollup.OverallHourCodes + ` (bucket, code, n)
			SELECT bucket, code, sum(n) FROM ` + rollup.TenantHourCodes + ` GROUP BY bucket, code`,
	} {
		exec(q)
	}
	exec(`INSERT INTO stat_rollup_marks (name, up_to) VALUES (?, ?), (?, ?)`,
		rollup.MarkHours, set.end.UnixMicro(), rollup.MarkRedo, rollup.RedoFrom(set.end, 2*time.Hour).UnixMicro())
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

// TestStatsReadGeneratedSmoke (smokeStats per set) is the small version of
// BenchmarkReadStats30Days: the generated rows read back exactly through
// the tenant and overall rows, and again after a RollupHours run (which
// recomputes the last two hours from their minute rows); the tenant rows
// hold one row per tenant and hour.
func TestStatsReadGeneratedSmoke(t *testing.T) {
	t.Parallel()
	for _, set := range []statsSet{
		{eps: 3, tenants: 2, days: 3, perHour: 720, end: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{eps: 4, tenants: 3, days: 3, perHour: 14, end: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(fmt.Sprintf("%dperhour", set.perHour), func(t *testing.T) {
			t.Parallel()
			smokeStats(t, set)
		})
	}
}

func smokeStats(t *testing.T, set statsSet) {
	path := filepath.Join(t.TempDir(), "hookd.db")
	seedStats(t, path, set)
	s, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	since := set.start().Add(30 * time.Minute)
	want := set.attempts()
	for i := range 30 { // the first half hour is outside the window
		a, _ := set.perMinute(i)
		want -= int64(set.eps * a)
	}
	read := func() []*hookd.Stats {
		var out []*hookd.Stats
		for _, tenant := range []*string{nil, ptr("t01")} {
			st, err := s.ReadStats(t.Context(), hookd.StatsQuery{TenantID: tenant, Since: since, Until: set.end, Bucket: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, st)
		}
		return out
	}
	slow := read()
	if st := slow[0]; st.Attempts != want || st.StatusCodes[200]+st.StatusCodes[500] != want || len(st.Series) != 72 || st.Failed == 0 {
		t.Errorf("%+v: got %d attempts (%d failed), codes %v, %d buckets; want %d, 72 buckets", set, st.Attempts, st.Failed, st.StatusCodes, len(st.Series), want)
	}
	// A job run: the last two hours recomputed from their minute rows.
	if m, err := s.RollupHours(t.Context(), set.end, 2*time.Hour, 24*time.Hour); err != nil || !m.Equal(set.end) {
		t.Fatalf("RollupHours: %s, %v; want the watermark %s", m, err, set.end)
	}
	if fast := read(); !reflect.DeepEqual(fast, slow) {
		t.Errorf("%+v: after a job run:\n got %+v\nwant %+v", set, fast, slow)
	}
	if n := countRows(t, path, "stat_tenant_hours"); n != set.tenants*set.hours() {
		t.Errorf("%+v: %d tenant hour rows, want %d", set, n, set.tenants*set.hours())
	}
}

func countRows(t *testing.T, path, table string) int {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// BenchmarkReadStats30Days reads a 30-day window (1h buckets, the API's
// default) over rollups standing for about 10 million attempts, in two
// sets: 20 endpoints of one tenant at 12 attempts a minute each, and 1,000
// endpoints over 40 tenants at 14 an hour (720k endpoint hour rows in the
// window), seeded as the stats-rollup job leaves them (seedStats), read
// after a job run. Seeding takes a while; run it with
// go test ./sqlite -run '^$' -bench ReadStats30Days.
func BenchmarkReadStats30Days(b *testing.B) {
	for _, set := range []statsSet{
		{eps: 20, tenants: 1, days: 31, perHour: 720},
		{eps: 1000, tenants: 40, days: 31, perHour: 14},
	} {
		set.end = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		b.Run(fmt.Sprintf("%deps", set.eps), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "hookd.db")
			seedStats(b, path, set)
			b.Logf("seeded rollups of %d attempts over %d days, %d endpoints, %d tenants", set.attempts(), set.days, set.eps, set.tenants)
			s, err := sqlite.Open(b.Context(), path, sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			eps, _, err := s.ListEndpoints(b.Context(), nil, hookd.Page{Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			// A partial minute: the read takes minute rows at both ends.
			since, until := hookd.StatsWindow(set.end.Add(30*time.Second), hookd.MaxStatsWindow)
			read := func(name string, q hookd.StatsQuery) {
				b.Run(name, func(b *testing.B) {
					cpu0, n := cpuTime(), 0
					for b.Loop() {
						st, err := s.ReadStats(b.Context(), q)
						if err != nil {
							b.Fatal(err)
						}
						if st.Attempts == 0 {
							b.Fatal("no attempts read")
						}
						n++
					}
					// CPU time of this process per read: on a shared,
					// oversubscribed machine ns/op also counts the waits
					// for a core.
					b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(n), "cpu-ms/op")
				})
			}
			overall := hookd.StatsQuery{Since: since, Until: until, Bucket: time.Hour}
			tenant := overall
			tenant.TenantID = ptr("t00")
			endpoint := overall
			endpoint.EndpointID = eps[0].ID
			start := time.Now()
			if _, err := s.RollupHours(b.Context(), set.end, 2*time.Hour, 7*24*time.Hour); err != nil {
				b.Fatal(err)
			}
			b.Logf("RollupHours of the last 2 hours (a job run, endpoint hours from minutes): %s", time.Since(start).Round(time.Millisecond))
			read("overall", overall)
			read("tenant", tenant)
			read("endpoint", endpoint)
			if set.eps > 100 {
				return // StatsByEndpoint over 30 days of 1,000 endpoints is not a read the API makes
			}
			b.Run("by-endpoint", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.StatsByEndpoint(b.Context(), since, until); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // RUSAGE_SELF does not fail
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
