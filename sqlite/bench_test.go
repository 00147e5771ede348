package sqlite_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/sqlite"
)

var benchPayload = json.RawMessage(`{"order_id":"ord_123","amount":4200,"currency":"eur","items":[{"sku":"a","qty":1}]}`)

func benchEndpoints(b *testing.B, s *sqlite.Store, tenant string, n int) []string {
	b.Helper()
	var ids []string
	for range n {
		e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, time.Now()), TenantID: tenant,
			URL: "https://example.com/hook", Secret: hookd.NewSecret(), CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := s.CreateEndpoint(b.Context(), e); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

func benchEvents(tenant string, n int, at time.Time) []hookd.NewEvent {
	evs := make([]hookd.NewEvent, n)
	for i := range evs {
		evs[i] = hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, at), TenantID: tenant,
			Type: "order.created", Payload: benchPayload, CreatedAt: at}}
	}
	return evs
}

// BenchmarkIngestEvents measures one durable IngestEvents call (fsync
// included) fanning each event out to 2 endpoints.
func BenchmarkIngestEvents(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := open(b)
			benchEndpoints(b, s, "t", 2)
			for b.Loop() {
				b.StopTimer()
				evs := benchEvents("t", batch, time.Now())
				b.StartTimer()
				if _, err := s.IngestEvents(b.Context(), evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkClaimDue measures claiming 100 deliveries out of a backlog of
// 20,000 over 20 endpoints; every iteration moves the clock past the
// previous leases, so there is always work.
func BenchmarkClaimDue(b *testing.B) {
	for _, cap := range []int{0, 16} {
		b.Run(fmt.Sprintf("maxInFlight=%d", cap), func(b *testing.B) {
			s := open(b)
			benchEndpoints(b, s, "t", 20)
			start := time.Now()
			for range 10 {
				if _, err := s.IngestEvents(b.Context(), benchEvents("t", 100, start)); err != nil {
					b.Fatal(err)
				}
			}
			now := start
			for b.Loop() {
				now = now.Add(time.Minute + time.Second)
				cs, err := s.ClaimDue(b.Context(), hookd.ClaimRequest{Owner: "bench", Now: now, Lease: time.Minute,
					Limit: 100, DefaultMaxInFlight: cap})
				if err != nil {
					b.Fatal(err)
				}
				if len(cs) != 100 {
					b.Fatalf("got %d claims, want 100", len(cs))
				}
			}
		})
	}
}

// BenchmarkCompleteAttempts measures recording a batch of 100 finished
// attempts (one transaction, fsync included).
func BenchmarkCompleteAttempts(b *testing.B) {
	s := open(b)
	benchEndpoints(b, s, "t", 4)
	now := time.Now()
	for b.Loop() {
		b.StopTimer()
		cs, err := s.ClaimDue(b.Context(), hookd.ClaimRequest{Owner: "bench", Now: now, Lease: time.Minute, Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		if len(cs) < 100 {
			if _, err := s.IngestEvents(b.Context(), benchEvents("t", 250, now)); err != nil {
				b.Fatal(err)
			}
			if cs, err = s.ClaimDue(b.Context(), hookd.ClaimRequest{Owner: "bench", Now: now, Lease: time.Minute, Limit: 100}); err != nil {
				b.Fatal(err)
			}
		}
		comps := make([]hookd.Completion, len(cs))
		for i, c := range cs {
			comps[i] = hookd.Completion{Owner: "bench", Outcome: hookd.OutcomeSucceeded, Attempt: hookd.Attempt{
				DeliveryID: c.Delivery.ID, Number: 1, StartedAt: now, StatusCode: 200, Latency: 20 * time.Millisecond}}
		}
		b.StartTimer()
		if err := s.CompleteAttempts(b.Context(), comps, hookd.DefaultCircuitPolicy); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "attempts/s")
}
