package postgres

import (
	"context"
	"fmt"
	"reflect"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	"github.com/jackc/pgx/v5"
)

// statsSet is a generated stats data set (the same as sqlite's
// statsbench_test.go): eps endpoints spread over tenants, days of hour
// rows ending at end, perHour attempts per endpoint and hour (perHour/60 a
// minute when it is a multiple of 60, else one a minute in the hour's
// first perHour minutes; one in twelve fails, or the last of the hour).
// Minute rows are written only where a read of the last 30 days (or of
// the whole set, when shorter) takes them: the first hour of the window
// and the last two hours.
type statsSet struct {
	eps, tenants, days, perHour int
	end                         time.Time // a whole hour
}

func (s statsSet) hours() int { return s.days * 24 }

func (s statsSet) start() time.Time { return s.end.Add(-time.Duration(s.hours()) * time.Hour) }

func (s statsSet) attempts() int64 { return int64(s.eps) * int64(s.hours()) * int64(s.perHour) }

func (s statsSet) minuteHours() []int {
	h := s.hours()
	out := []int{max(0, h-721)}
	if h-720 > 0 {
		out = append(out, h-720)
	}
	return append(out, h-2, h-1)
}

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

// seedSummed writes the summed rows of the endpoint hour rows (the seed
// has no system tenant), as RollupHours does.
var seedSummed = []string{
	`INSERT INTO ` + rollup.TenantHours + ` (tenant_id, bucket, ` + rollup.Columns + `)
		SELECT tenant_id, bucket, ` + rollup.SumColumns + ` FROM stat_hours GROUP BY tenant_id, bucket`,
	`INSERT INTO ` + rollup.TenantHourCodes + ` (tenant_id, bucket, code, n)
		SELECT tenant_id, bucket, code, sum(n) FROM stat_hour_codes GROUP BY tenant_id, bucket, code`,
	`INSERT INTO ` + rollup.OverallHours + ` (bucket, ` + rollup.Columns + `)
		SELECT bucket, ` + rollup.SumColumns + ` FROM ` + rollup.TenantHours + ` GROUP BY bucket`,
	`INSERT INTO ` + rollup.OverallHourCodes + ` (bucket, code, n)
		SELECT bucket, code, sum(n) FROM ` + rollup.TenantHourCodes + ` GROUP BY bucket, code`,
}

// seedStats writes the set into s's schema directly (no attempts),
// endpoints through the store, as the stats-rollup job leaves it at end
// (watermark end): the endpoint hour rows, the minute rows of
// statsSet.minuteHours (the last two hours among them: a job run
// recomputes their hour rows from them) and the summed rows.
func seedStats(tb testing.TB, s *Store, set statsSet) {
	tb.Helper()
	ctx := context.Background()
	for i := range set.eps {
		e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, time.Now()), TenantID: fmt.Sprintf("t%02d", i%set.tenants),
			URL: "https://example.com/hook", Secret: hookd.NewSecret(), CreatedAt: set.end, UpdatedAt: set.end}
		if err := s.CreateEndpoint(ctx, e); err != nil {
			tb.Fatal(err)
		}
	}
	n, f := set.perHour, set.hourFailed()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		exec := func(q string, args ...any) error {
			_, err := tx.Exec(ctx, q, args...)
			return err
		}
		hours := ` FROM generate_series(0, $4::int - 1) h, endpoints e`
		if err := exec(`INSERT INTO stat_hours (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l06, l07)
			SELECT e.id, $1::timestamptz + h * interval '1 hour', e.tenant_id, $2::bigint, $2::bigint - $3::bigint, $3::bigint, $2::bigint - $3::bigint, $3::bigint`+hours,
			set.start(), n, f, set.hours()); err != nil {
			return err
		}
		if err := exec(`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n)
			SELECT e.id, $1::timestamptz + h * interval '1 hour', 200, e.tenant_id, $2::bigint - $3::bigint`+hours,
			set.start(), n, f, set.hours()); err != nil {
			return err
		}
		if err := exec(`INSERT INTO stat_hour_codes (endpoint_id, bucket, code, tenant_id, n)
			SELECT e.id, $1::timestamptz + h * interval '1 hour', 500, e.tenant_id, $3::bigint + 0 * $2::bigint`+hours,
			set.start(), n, f, set.hours()); err != nil {
			return err
		}
		// The minutes of the minute hours, as statsSet.perMinute counts them.
		minutes := `FROM (SELECT $1::timestamptz + h * interval '1 hour' + i * interval '1 minute' AS at,
				CASE WHEN $2::int >= 60 THEN $2::int / 60 WHEN i < $2::int THEN 1 ELSE 0 END AS a,
				CASE WHEN $2::int >= 60 THEN $2::int / 60 / 12 WHEN i = $2::int - 1 THEN 1 ELSE 0 END AS f
			FROM unnest($3::int[]) h, generate_series(0, 59) i) v, endpoints e WHERE v.a > 0`
		if err := exec(`INSERT INTO stat_minutes (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l06, l07)
			SELECT e.id, v.at, e.tenant_id, v.a, v.a - v.f, v.f, v.a - v.f, v.f `+minutes, set.start(), n, set.minuteHours()); err != nil {
			return err
		}
		if err := exec(`INSERT INTO stat_minute_codes (endpoint_id, bucket, code, tenant_id, n)
			SELECT e.id, v.at, 200, e.tenant_id, v.a - v.f `+minutes+` AND v.a > v.f`, set.start(), n, set.minuteHours()); err != nil {
			return err
		}
		if err := exec(`INSERT INTO stat_minute_codes (endpoint_id, bucket, code, tenant_id, n)
			SELECT e.id, v.at, 500, e.tenant_id, v.f `+minutes+` AND v.f > 0`, set.start(), n, set.minuteHours()); err != nil {
			return err
		}
		// What RollupHours leaves once it has run up to end: the summed
		// rows of the endpoint hour rows, its watermark and redo mark.
		for _, q := range seedSummed {
			if err := exec(q); err != nil {
				return err
			}
		}
		return exec(`INSERT INTO stat_rollup_marks (name, up_to) VALUES ($1, $2), ($3, $4)`,
			rollup.MarkHours, set.end, rollup.MarkRedo, rollup.RedoFrom(set.end, 2*time.Hour))
	})
	if err != nil {
		tb.Fatal(err)
	}
	analyzeSchema(tb, s)
}

// analyzeSchema runs ANALYZE on the tables of s's schema alone: a bare
// ANALYZE walks every schema of the database, and other test processes
// drop theirs meanwhile (ERROR: tuple concurrently deleted).
func analyzeSchema(tb testing.TB, s *Store) {
	tb.Helper()
	if _, err := s.pool.Exec(tb.Context(), `DO $$ DECLARE t text; BEGIN
		FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema() LOOP
			EXECUTE format('ANALYZE %I', t);
		END LOOP; END $$`); err != nil {
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
	s, _ := open(t, Options{})
	seedStats(t, s, set)
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
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM stat_tenant_hours`).Scan(&n); err != nil || n != set.tenants*set.hours() {
		t.Errorf("%+v: %d tenant hour rows (%v), want %d", set, n, err, set.tenants*set.hours())
	}
}

// BenchmarkReadStats30Days is sqlite's BenchmarkReadStats30Days on
// Postgres (skipped without HOOKD_TEST_POSTGRES_URL): a 30-day window, 1h
// buckets, over rollups standing for about 10 million attempts, 20
// endpoints of one tenant and 1,000 over 40 tenants, seeded as the
// stats-rollup job leaves them (seedStats), read after a job run. Run it
// with
// go test ./postgres -run '^$' -bench ReadStats30Days.
func BenchmarkReadStats30Days(b *testing.B) {
	for _, set := range []statsSet{
		{eps: 20, tenants: 1, days: 31, perHour: 720},
		{eps: 1000, tenants: 40, days: 31, perHour: 14},
	} {
		set.end = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		b.Run(fmt.Sprintf("%deps", set.eps), func(b *testing.B) {
			s, _ := open(b, Options{})
			seedStats(b, s, set)
			b.Logf("seeded rollups of %d attempts over %d days, %d endpoints, %d tenants", set.attempts(), set.days, set.eps, set.tenants)
			eps, _, err := s.ListEndpoints(b.Context(), nil, hookd.Page{Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
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
			analyzeSchema(b, s)
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
func ptr[T any](v T) *T { return &v }

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // RUSAGE_SELF does not fail
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
