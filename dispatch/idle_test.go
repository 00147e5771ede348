package dispatch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// slowClaims is a store whose claims are slow: after the store's claim has
// read its snapshot, and before the claim returns, every attempt that was
// in flight when the claim began finishes and is recorded (released at
// gate, then waited for in the dispatcher's own count). That is the
// interleaving of a loaded Postgres, where a claim takes tens of
// milliseconds and a fast receiver answers meanwhile.
type slowClaims struct {
	Store
	t     testing.TB
	d     atomic.Pointer[Dispatcher]
	ep    string
	gate  chan struct{} // one value lets one attempt answer
	calls atomic.Int64  // claims returned
}

func (s *slowClaims) inFlight() int {
	d := s.d.Load()
	d.mu.Lock()
	defer d.mu.Unlock()
	if st := d.endpoints[s.ep]; st != nil {
		return st.inFlight
	}
	return 0
}

func (s *slowClaims) ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	defer s.calls.Add(1)
	if s.d.Load() == nil {
		return s.Store.ClaimDue(ctx, r)
	}
	running := s.inFlight()
	claims, err := s.Store.ClaimDue(ctx, r)
	for range running {
		s.gate <- struct{}{}
	}
	waitFor(s.t, "attempts in flight before the claim recorded", func() bool { return s.inFlight() == 0 })
	return claims, err
}

// TestSlowClaimKeepsDrainingCappedBacklog: a claim that stopped at an
// endpoint's cap is not "idle" because the attempts that filled the cap
// were recorded while it ran. Before the fix the loop took such a claim
// for one that found nothing due, the completions of its attempts woke
// nobody, and a capped backlog was delivered at the pace of ingest
// commits or of the poll (issue 13's Postgres batch figure: ~90
// deliveries/s). Here the poll is an hour and nothing else wakes the loop:
// every delivery arrives only if each claim's attempts wake the next one.
func TestSlowClaimKeepsDrainingCappedBacklog(t *testing.T) {
	t.Parallel()
	fs := newFaultStore(t)
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(gate) })
	// The wrapper hides hookd.Exclusive: the recorder does not refill, as
	// with several nodes on Postgres.
	sc := &slowClaims{Store: fs, t: t, gate: gate}
	e := newEnvOn(t, fs, sc, func(c *Config) {
		c.PollInterval = time.Hour
		c.DefaultMaxInFlight = 2
	})
	ep := e.endpoint(srv.URL, nil)
	sc.ep = ep.ID
	waitFor(t, "the first claim", func() bool { return sc.calls.Load() > 0 })
	sc.d.Store(e.d)

	const n = 8
	now := time.Now().UTC()
	events := make([]hookd.NewEvent, n)
	for i := range events {
		events[i] = hookd.NewEvent{
			Event:          hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), Type: "order.created", Payload: json.RawMessage(`{}`), CreatedAt: now},
			OnlyEndpointID: ep.ID,
		}
	}
	if _, err := fs.IngestEvents(context.Background(), events); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	e.d.Wake()
	// The first claim takes two (the cap); let one answer: its completion
	// wakes the loop, and from then on each claim finishes the attempts
	// before it.
	waitFor(t, "two attempts in flight", func() bool { return sc.inFlight() == 2 })
	gate <- struct{}{}
	for _, ev := range events {
		ds, _, err := fs.ListDeliveries(context.Background(), hookd.DeliveryFilter{EventID: ev.Event.ID})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries of %s: %d, %v", ev.Event.ID, len(ds), err)
		}
		e.waitStatus(ds[0].ID, hookd.StatusSucceeded)
	}
}
