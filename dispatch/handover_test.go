package dispatch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// claimSpy records every delivery a claim of the store returned.
type claimSpy struct {
	hookd.Store
	mu      sync.Mutex
	claimed map[string]bool
}

func (s *claimSpy) note(cs []hookd.Claim) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cs {
		s.claimed[c.Delivery.ID] = true
	}
}

func (s *claimSpy) ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	cs, err := s.Store.ClaimDue(ctx, r)
	s.note(cs)
	return cs, err
}

func (s *claimSpy) CompleteAndClaim(ctx context.Context, comps []hookd.Completion, p hookd.CircuitPolicy, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	cs, err := s.Store.CompleteAndClaim(ctx, comps, p, r)
	s.note(cs)
	return cs, err
}

func (s *claimSpy) wasClaimed(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claimed[id]
}

// Exclusive passes the SQLite store's answer on (the refill switch).
func (s *claimSpy) Exclusive() bool { return true }

// TestHandoverSQLite sends deliveries leased at ingest through the
// dispatcher on the real SQLite store: they are delivered signed, recorded,
// and never returned by a claim; with no room (the endpoint's cap taken)
// the rest take the claim path and are delivered too.
func TestHandoverSQLite(t *testing.T) {
	t.Parallel()
	s := newFaultStore(t)
	spy := &claimSpy{Store: s, claimed: map[string]bool{}}
	e := newEnvOn(t, s, spy, func(c *Config) { c.DefaultMaxInFlight = 2 })
	release := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("webhook-signature") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		<-release
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	e.endpoint(srv.URL, nil)

	ctx := context.Background()
	var evs []hookd.NewEvent
	for range 3 {
		now := time.Now()
		evs = append(evs, hookd.NewEvent{Event: hookd.Event{
			ID: hookd.NewID(hookd.PrefixEvent, now), Type: "order.created", Payload: []byte(`{"n":1}`), CreatedAt: now,
		}})
	}
	// The claim loop holds every free slot while it claims: wait for it.
	var r hookd.ClaimRequest
	waitFor(t, "a reservation", func() bool {
		var ok bool
		r, ok = e.d.ReserveIngest(16)
		return ok
	})
	if r.Limit != 16 || r.Owner != e.d.Owner() {
		t.Fatalf("ReserveIngest: got %+v, want 16 slots for %s", r, e.d.Owner())
	}
	res, claims, err := s.IngestAndLease(ctx, evs, r)
	e.d.Handover(r, claims, err)
	if err != nil {
		t.Fatalf("IngestAndLease: %v", err)
	}
	if len(claims) != 2 {
		t.Fatalf("got %d deliveries leased at ingest, want 2 (the cap)", len(claims))
	}
	e.d.Wake() // the third takes the claim path once the cap frees up
	once.Do(func() { close(release) })
	for _, r := range res {
		ds, _, err := s.ListDeliveries(ctx, hookd.DeliveryFilter{EventID: r.Event.ID})
		if err != nil || len(ds) != 1 {
			t.Fatalf("deliveries of %s: %v %v", r.Event.ID, ds, err)
		}
		e.waitStatus(ds[0].ID, hookd.StatusSucceeded)
	}
	for _, c := range claims {
		if spy.wasClaimed(c.Delivery.ID) {
			t.Errorf("delivery %s leased at ingest was claimed again", c.Delivery.ID)
		}
		if as := e.attempts(c.Delivery.ID); len(as) != 1 || as[0].StatusCode != 200 {
			t.Errorf("attempts of %s: got %+v, want one 200", c.Delivery.ID, as)
		}
	}
}

// TestHandoverStopping releases what an ingest leased when the dispatcher
// is stopping: nothing is sent, the deliveries are claimable at once.
func TestHandoverStopping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, hits := statusServer(t, 200)
	e.endpoint(srv.URL, nil)
	now := time.Now() // the API stamps the event before it is submitted
	ev := hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), Type: "x", Payload: []byte(`{}`), CreatedAt: now}}
	// The claim loop holds every free slot while it claims: wait for it.
	var r hookd.ClaimRequest
	waitFor(t, "a reservation", func() bool {
		var ok bool
		r, ok = e.d.ReserveIngest(4)
		return ok
	})
	_, claims, err := e.store.IngestAndLease(context.Background(), []hookd.NewEvent{ev}, r)
	if err != nil || len(claims) != 1 {
		t.Fatalf("IngestAndLease: got %d claims, %v; want 1", len(claims), err)
	}
	if err := e.stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	e.d.Handover(r, claims, nil)
	d := e.delivery(claims[0].Delivery.ID)
	if d.LeaseOwner != "" || d.Status != hookd.StatusPending || hits.Load() != 0 {
		t.Errorf("got owner %q status %s and %d requests, want released, pending, none sent", d.LeaseOwner, d.Status, hits.Load())
	}
	if _, ok := e.d.ReserveIngest(4); ok {
		t.Error("ReserveIngest after Stop: got a reservation, want none")
	}
}

// TestCappedBacklogDrainsWithoutPoll: without refill in the completion
// write (several nodes, as on Postgres), a finished attempt wakes the claim
// loop while its latest claim stopped at an endpoint's cap, so a capped
// backlog drains at the pace of its attempts, not of the poll (an hour
// here). A claim that found nothing due does not (Dispatcher.idle).
func TestCappedBacklogDrainsWithoutPoll(t *testing.T) {
	t.Parallel()
	fs := newFaultStore(t)
	// The wrapper hides hookd.Exclusive: the recorder does not refill.
	e := newEnvOn(t, fs, struct{ Store }{fs}, func(c *Config) {
		c.PollInterval = time.Hour
		c.DefaultMaxInFlight = 2
	})
	srv, _ := statusServer(t, 200)
	ep := e.endpoint(srv.URL, nil)
	var ids []string
	for range 10 {
		_, id := e.send(ep, "order.created", `{}`)
		ids = append(ids, id)
	}
	for _, id := range ids {
		e.waitStatus(id, hookd.StatusSucceeded)
	}
}
