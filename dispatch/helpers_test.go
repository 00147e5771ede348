package dispatch

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/ssrf"
)

// testSecret is a valid "whsec_" secret (32 bytes).
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw1ruqOV5M1eo="

// env is a running dispatcher on a real SQLite store in a temporary
// directory, with its operational events.
type env struct {
	t testing.TB
	// store is the database the test sets up and inspects (and, unless
	// newEnvOn was given a wrapper, what the dispatcher calls).
	store  *faultStore
	d      *Dispatcher
	ops    chan OpEvent
	stopOK bool
}

// newEnv starts a dispatcher on a fresh SQLite store with fast test
// settings changed by mod.
func newEnv(t testing.TB, mod func(*Config)) *env {
	t.Helper()
	s := newFaultStore(t)
	return newEnvOn(t, s, s, mod)
}

// newEnvOn starts a dispatcher that calls ds, a wrapper of store (or store
// itself); the test sets up and inspects store.
func newEnvOn(t testing.TB, store *faultStore, ds Store, mod func(*Config)) *env {
	t.Helper()
	e := &env{t: t, store: store, ops: make(chan OpEvent, 100)}
	cfg := Config{
		Owner:          "test-" + t.Name(),
		Workers:        16,
		AttemptTimeout: 2 * time.Second,
		PollInterval:   20 * time.Millisecond,
		Retry:          hookd.RetryPolicy{Base: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond, MaxAttempts: 5},
		// Circuit: zero, no breaker unless a test sets one.
		Guard:     ssrf.Guard{AllowPrivate: true},
		UserAgent: "hookd/test",
		Logger:    slog.New(slog.DiscardHandler),
		OnEvent: func(ev OpEvent, _ *hookd.NewEvent) {
			select {
			case e.ops <- ev:
			default:
			}
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	e.d = New(ds, cfg)
	if err := e.d.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if e.stopOK {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.d.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return e
}

// stop stops the dispatcher now and returns Stop's error.
func (e *env) stop(ctx context.Context) error {
	e.stopOK = true
	return e.d.Stop(ctx)
}

// endpoint creates an endpoint for url, changed by mod.
func (e *env) endpoint(url string, mod func(*hookd.Endpoint)) *hookd.Endpoint {
	e.t.Helper()
	now := time.Now().UTC()
	ep := &hookd.Endpoint{
		ID: hookd.NewID(hookd.PrefixEndpoint, now), URL: url, Secret: testSecret,
		Circuit: hookd.Circuit{State: hookd.CircuitClosed}, CreatedAt: now, UpdatedAt: now,
	}
	if mod != nil {
		mod(ep)
	}
	if err := e.store.CreateEndpoint(context.Background(), ep); err != nil {
		e.t.Fatalf("create endpoint: %v", err)
	}
	return ep
}

// send ingests one event for ep, wakes the dispatcher and returns the event
// and its delivery id.
func (e *env) send(ep *hookd.Endpoint, typ, payload string) (*hookd.Event, string) {
	e.t.Helper()
	now := time.Now().UTC()
	ne := hookd.NewEvent{
		Event:          hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), Type: typ, Payload: json.RawMessage(payload), CreatedAt: now},
		OnlyEndpointID: ep.ID,
	}
	ctx := context.Background()
	if _, err := e.store.IngestEvents(ctx, []hookd.NewEvent{ne}); err != nil {
		e.t.Fatalf("ingest: %v", err)
	}
	ds, _, err := e.store.ListDeliveries(ctx, hookd.DeliveryFilter{EventID: ne.ID})
	if err != nil || len(ds) != 1 {
		e.t.Fatalf("deliveries of %s: got %d, %v; want 1", ne.ID, len(ds), err)
	}
	e.d.Wake()
	return &ne.Event, ds[0].ID
}

// delivery returns the stored delivery.
func (e *env) delivery(id string) *hookd.Delivery {
	e.t.Helper()
	d, err := e.store.GetDelivery(context.Background(), id)
	if err != nil {
		e.t.Fatalf("get delivery: %v", err)
	}
	return d
}

// attempts returns the stored attempts of a delivery.
func (e *env) attempts(id string) []*hookd.Attempt {
	e.t.Helper()
	as, _, err := e.store.ListAttempts(context.Background(), id, hookd.Page{Limit: hookd.MaxPageLimit})
	if err != nil {
		e.t.Fatalf("list attempts: %v", err)
	}
	return as
}

// waitStatus waits until the delivery has status s and returns it.
func (e *env) waitStatus(id string, s hookd.DeliveryStatus) *hookd.Delivery {
	e.t.Helper()
	var d *hookd.Delivery
	waitFor(e.t, "delivery "+string(s), func() bool {
		d = e.delivery(id)
		return d.Status == s && d.LeaseOwner == ""
	})
	return d
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
