package dispatch

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/ssrf"
	"github.com/hookd/hookd/sqlite"
)

// BenchmarkDispatch measures end-to-end delivery on SQLite: b.N deliveries
// (events fanned out to 4 endpoints on one loopback receiver) are committed
// first; the timer covers claiming, signing, sending and recording them all.
func BenchmarkDispatch(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()

	const endpoints = 4
	now := time.Now().UTC()
	for range endpoints {
		ep := &hookd.Endpoint{
			ID: hookd.NewID(hookd.PrefixEndpoint, now), URL: srv.URL, Secret: testSecret,
			Circuit: hookd.Circuit{State: hookd.CircuitClosed}, CreatedAt: now, UpdatedAt: now,
		}
		if err := store.CreateEndpoint(ctx, ep); err != nil {
			b.Fatal(err)
		}
	}
	events := (b.N + endpoints - 1) / endpoints
	payload := json.RawMessage(`{"order_id":"ord_123","amount":4200,"currency":"eur"}`)
	for done := 0; done < events; {
		n := min(500, events-done)
		batch := make([]hookd.NewEvent, n)
		for i := range batch {
			batch[i].Event = hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), Type: "order.created", Payload: payload, CreatedAt: now}
		}
		if _, err := store.IngestEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
		done += n
	}

	counted := &countingStore{Store: store}
	d := New(counted, Config{
		Owner: "bench", Guard: ssrf.Guard{AllowPrivate: true}, PollInterval: 10 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	b.ResetTimer()
	if err := d.Start(ctx); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		left, _, err := store.ListDeliveries(ctx, hookd.DeliveryFilter{Status: hookd.StatusPending, Page: hookd.Page{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("deliveries still pending after 5 min")
		}
		<-tick.C
	}
	b.StopTimer()
	if err := d.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(events*endpoints)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(events*endpoints)/float64(counted.claims.Load()), "deliveries/claim")
	b.ReportMetric(float64(events*endpoints)/float64(counted.completes.Load()), "deliveries/write")
}

// countingStore counts the dispatcher's claim and completion writes.
type countingStore struct {
	Store
	claims, completes atomic.Int64
}

func (s *countingStore) ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	s.claims.Add(1)
	return s.Store.ClaimDue(ctx, r)
}

func (s *countingStore) CompleteAttempts(ctx context.Context, cs []hookd.Completion, p hookd.CircuitPolicy) error {
	s.completes.Add(1)
	return s.Store.CompleteAttempts(ctx, cs, p)
}

func (s *countingStore) CompleteAndClaim(ctx context.Context, cs []hookd.Completion, p hookd.CircuitPolicy, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	s.completes.Add(1)
	if r.Limit > 0 {
		s.claims.Add(1)
	}
	return s.Store.CompleteAndClaim(ctx, cs, p, r)
}
