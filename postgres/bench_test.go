package postgres

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// benchRows is how many pending deliveries the claim benchmarks start
// with: HOOKD_BENCH_ROWS, default 10,000. The figure in docs/postgres.md
// was measured with HOOKD_BENCH_ROWS=1000000.
func benchRows(b *testing.B) int {
	n := 10_000
	if v := os.Getenv("HOOKD_BENCH_ROWS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("HOOKD_BENCH_ROWS: %v", err)
		}
	}
	return n
}

// seedPending inserts n pending deliveries spread over the endpoints, due
// from t0 on, in bulk SQL, then analyzes the tables.
func seedPending(b *testing.B, url string, eps []*hookd.Endpoint, n int) {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	ids := make([]string, len(eps))
	for i, e := range eps {
		ids[i] = e.ID
	}
	start := time.Now()
	_, err = conn.Exec(ctx, `INSERT INTO events (id, tenant_id, type, payload, created_at)
		SELECT 'evt_' || lpad(g::text, 12, '0'), '', 'a', '{"n":1}', $1::timestamptz + g * interval '1 millisecond'
		FROM generate_series(1, $2) g`, t0, n)
	if err != nil {
		b.Fatal(err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
		SELECT 'dlv_' || lpad(g::text, 12, '0'), 'evt_' || lpad(g::text, 12, '0'), ($3::text[])[1 + g % cardinality($3::text[])],
			'pending', t, t, t
		FROM generate_series(1, $2) g, LATERAL (SELECT $1::timestamptz + g * interval '1 millisecond' AS t) x`, t0, n, ids)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE endpoints; ANALYZE events; ANALYZE deliveries`); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d pending deliveries over %d endpoints in %v", n, len(eps), time.Since(start).Round(time.Millisecond))
}

// BenchmarkIngest measures one IngestEvents call of 100 events, each
// fanned out to 3 endpoints (one transaction, 100 events + 300 deliveries).
func BenchmarkIngest(b *testing.B) {
	s, _ := open(b, Options{PollOnly: true})
	for range 3 {
		newEndpoint(b, s, nil)
	}
	ctx := context.Background()
	at := t0
	for b.Loop() {
		evs := make([]hookd.NewEvent, 100)
		for i := range evs {
			at = at.Add(time.Microsecond)
			evs[i] = newEvent("order.created", "", "", at)
		}
		if _, err := s.IngestEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/100, "µs/event")
}

// BenchmarkClaim measures one ClaimDue of 100 deliveries with
// HOOKD_BENCH_ROWS pending rows over 100 endpoints, without and with the
// cluster-wide in-flight cap. Every iteration claims at a later Now after
// the previous leases expired, so the backlog stays the same size.
func BenchmarkClaim(b *testing.B) {
	n := benchRows(b)
	s, url := open(b, Options{PollOnly: true})
	var eps []*hookd.Endpoint
	for range 100 {
		eps = append(eps, newEndpoint(b, s, nil))
	}
	seedPending(b, url, eps, n)
	due := t0.Add(time.Duration(n+1) * time.Millisecond) // every row is due
	for _, capN := range []int{0, 16} {
		b.Run(fmt.Sprintf("cap=%d", capN), func(b *testing.B) {
			ctx := context.Background()
			i := 0
			for b.Loop() {
				i++
				now := due.Add(time.Duration(i) * time.Second)
				cs, err := s.ClaimDue(ctx, hookd.ClaimRequest{Owner: "bench", Now: now, Lease: time.Millisecond,
					Limit: 100, DefaultMaxInFlight: capN})
				if err != nil {
					b.Fatal(err)
				}
				if len(cs) != 100 {
					b.Fatalf("got %d claims, want 100", len(cs))
				}
			}
			due = due.Add(time.Duration(i+1) * time.Second)
		})
	}
}

// BenchmarkComplete measures one CompleteAttempts of 100 attempts (retry
// outcome, due again at once, so the backlog stays), after an untimed claim.
func BenchmarkComplete(b *testing.B) {
	s, url := open(b, Options{PollOnly: true})
	var eps []*hookd.Endpoint
	for range 10 {
		eps = append(eps, newEndpoint(b, s, nil))
	}
	seedPending(b, url, eps, 10_000)
	ctx := context.Background()
	now := t0.Add(time.Hour)
	policy := hookd.CircuitPolicy{} // no breaker: every attempt here fails
	for b.Loop() {
		b.StopTimer()
		now = now.Add(time.Second)
		cs, err := s.ClaimDue(ctx, hookd.ClaimRequest{Owner: "bench", Now: now, Lease: time.Minute, Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) != 100 {
			b.Fatalf("got %d claims, want 100", len(cs))
		}
		comps := make([]hookd.Completion, len(cs))
		for i, c := range cs {
			comps[i] = hookd.Completion{Owner: "bench", Outcome: hookd.OutcomeRetry, NextAttemptAt: now,
				Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: c.Delivery.Attempts + 1, StartedAt: now,
					StatusCode: 500, Latency: time.Millisecond, ResponseBody: "oops", Error: "status 500"}}
		}
		b.StartTimer()
		if err := s.CompleteAttempts(ctx, comps, policy); err != nil {
			b.Fatal(err)
		}
	}
}
