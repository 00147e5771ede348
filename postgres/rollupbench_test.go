package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// rollupForms are the rollup writes BenchmarkCompleteRollups compares:
// the store's (queueRollups: the minute rows in one statement), the two
// upserts of one table each (queueTables) and none at all (the "without
// rollups" build). The hour rows are no longer written with the attempts
// (RollupHours derives them).
var rollupForms = []struct {
	name  string
	queue func(*pgx.Batch, []*rollup.Row)
}{
	{"store", queueRollups},
	{"tables", queueTables},
	{"none", func(*pgx.Batch, []*rollup.Row) {}},
}

// BenchmarkCompleteRollups measures what the rollup write costs the
// completion transaction on Postgres: CompleteAttempts batches of 1 and 8
// succeeded attempts of one endpoint (the dispatcher's batches under
// hookbench's one-endpoint throughput scenario; attempts 50 ms apart, so a
// minute row takes 1,200 batches of one), the rollup forms of rollupForms
// taking turns batch by batch, so that a shared machine's load weighs on
// each alike. One iteration is one batch of each form. The deliveries are
// claimed before the timer starts; the store has one connection. Per form
// it reports the Postgres backend's CPU time per batch (/proc/PID/schedstat:
// Postgres on this machine; parse, bind, locks and commit included) and
// the wall time per batch; and, from pg_stat_statements of this database,
// the rollup statements' execution time and WAL bytes per batch (store:
// the one statement; tables: the table-by-table upserts; a batch that the one statement does not fit
// takes them in the store form too). Run it
// against a private database (pg_stat_statements counts every session's
// statements), e.g. with HOOKD_TEST_POSTGRES_URL=postgres://…/rollupbench
// and CREATE EXTENSION pg_stat_statements there:
// go test ./postgres -run '^$' -bench CompleteRollups -benchtime 3000x.
func BenchmarkCompleteRollups(b *testing.B) {
	for _, size := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			url := testenv.PostgresSchema(b)
			s, err := Open(context.Background(), url+"&pool_max_conns=1", Options{PollOnly: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			ep := newEndpoint(b, s, nil)
			n := b.N * size * len(rollupForms)
			seedPending(b, url, []*hookd.Endpoint{ep}, n)
			ctx := context.Background()
			cs, err := s.ClaimDue(ctx, hookd.ClaimRequest{Owner: "bench", Now: t0.Add(time.Duration(n+1) * time.Millisecond),
				Lease: time.Hour, Limit: n})
			if err != nil {
				b.Fatal(err)
			}
			if len(cs) != n {
				b.Fatalf("claimed %d, want %d", len(cs), n)
			}
			var pid int32
			if err := s.pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
				b.Fatal(err)
			}
			resetStatements(b, s)
			cpu := make([]time.Duration, len(rollupForms))
			wall := make([]time.Duration, len(rollupForms))
			at := t0.Add(time.Hour)
			b.ResetTimer()
			for i := range b.N * len(rollupForms) {
				form := i % len(rollupForms)
				s.queueStats = rollupForms[form].queue
				comps := make([]hookd.Completion, size)
				for j, c := range cs[i*size : (i+1)*size] {
					at = at.Add(50 * time.Millisecond / time.Duration(size))
					comps[j] = hookd.Completion{Owner: "bench", Outcome: hookd.OutcomeSucceeded,
						Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: at,
							StatusCode: 200, Latency: 3 * time.Millisecond, ResponseBody: "ok"}}
				}
				cpu0, start := backendCPU(pid), time.Now()
				if err := s.CompleteAttempts(ctx, comps, hookd.CircuitPolicy{}); err != nil {
					b.Fatal(err)
				}
				wall[form] += time.Since(start)
				cpu[form] += backendCPU(pid) - cpu0
			}
			b.StopTimer()
			s.queueStats = queueRollups
			for form, f := range rollupForms {
				if cpu[form] > 0 {
					b.ReportMetric(float64(cpu[form].Microseconds())/float64(b.N), f.name+"-pgcpu-µs/op")
				}
				b.ReportMetric(float64(wall[form].Microseconds())/float64(b.N), f.name+"-wall-µs/op")
			}
			reportRollupStatements(b, s)
			logHOT(b, s)
		})
	}
}

// backendCPU returns the CPU time so far of the Postgres backend pid
// (/proc/PID/schedstat), or 0 when it cannot be read (Postgres elsewhere).
func backendCPU(pid int32) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0
	}
	var ns int64
	if _, err := fmt.Sscan(string(raw), &ns); err != nil {
		return 0
	}
	return time.Duration(ns)
}

// resetStatements resets pg_stat_statements of this database (only).
func resetStatements(b *testing.B, s *Store) {
	b.Helper()
	_, err := s.pool.Exec(context.Background(), `SELECT public.pg_stat_statements_reset(0, (SELECT oid FROM pg_database
		WHERE datname = current_database()), 0)`)
	if err != nil {
		b.Logf("no pg_stat_statements reset (%v)", err)
	}
}

// reportRollupStatements reports, from pg_stat_statements of this
// database since resetStatements, the execution time and WAL bytes per
// batch of the store's rollup statement and of the four table upserts.
func reportRollupStatements(b *testing.B, s *Store) {
	b.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT CASE WHEN query ~ '^WITH m AS \(INSERT INTO stat_minutes'
			THEN 'store' ELSE 'tables' END, sum(total_exec_time), sum(wal_bytes)::bigint
		FROM public.pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query ~ '^(WITH m AS \(|)INSERT INTO stat_(minute|hour)' GROUP BY 1`)
	if err != nil {
		b.Logf("no pg_stat_statements (%v)", err)
		return
	}
	var name string
	var ms float64
	var wal int64
	_, err = pgx.ForEachRow(rows, []any{&name, &ms, &wal}, func() error {
		b.ReportMetric(ms*1000/float64(b.N), name+"-exec-µs/op")
		b.ReportMetric(float64(wal)/float64(b.N), name+"-walB/op")
		return nil
	})
	if err != nil {
		b.Logf("no pg_stat_statements (%v)", err)
	}
}

// logHOT logs how many of the rollup tables' updates were HOT (no index
// entry added): pg_stat_user_tables, after this backend's counts are
// flushed.
func logHOT(b *testing.B, s *Store) {
	b.Helper()
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		b.Logf("HOT updates: %v", err)
		return
	}
	rows, err := s.pool.Query(ctx, `SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname ~ '^stat_(minute|hour)' ORDER BY relname`)
	if err != nil {
		b.Logf("HOT updates: %v", err)
		return
	}
	var name string
	var ins, upd, hot int64
	_, err = pgx.ForEachRow(rows, []any{&name, &ins, &upd, &hot}, func() error {
		b.Logf("%s: %d inserts, %d updates, %d of them HOT", name, ins, upd, hot)
		return nil
	})
	if err != nil {
		b.Logf("HOT updates: %v", err)
	}
}
