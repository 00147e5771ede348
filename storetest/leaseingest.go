package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// ingestLease calls IngestAndLease and fails the test on error.
func (f *fixture) ingestLease(r hookd.ClaimRequest, evs ...hookd.NewEvent) ([]hookd.IngestResult, []hookd.Claim) {
	f.t.Helper()
	if r.Lease == 0 {
		r.Lease = time.Hour
	}
	res, cs, err := f.s.IngestAndLease(f.ctx, evs, r)
	if err != nil {
		f.t.Fatalf("IngestAndLease: %v", err)
	}
	if len(res) != len(evs) {
		f.t.Fatalf("IngestAndLease: got %d results, want %d", len(res), len(evs))
	}
	return res, cs
}

// testIngestLease checks lease at commit: IngestAndLease inserts new
// deliveries already leased to the owner, up to the endpoint's room, and
// returns them with their event and endpoint; another node never claims
// them before the lease expires, and claims them after.
func testIngestLease(t *testing.T, open Opener) {
	f := setup(t, open)
	ep := f.endpoint("t", func(e *hookd.Endpoint) { e.URL = "https://example.com/a"; e.Headers = map[string]string{"X-A": "1"} })
	now := t0.Add(time.Second)
	const lease = 30 * time.Second
	evs := []hookd.NewEvent{event("t", "x", t0), event("t", "x", t0), event("t", "x", t0)}
	res, cs := f.ingestLease(hookd.ClaimRequest{Owner: "n1", Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 2}, evs...)
	for i, r := range res {
		if r.Duplicate || r.Deliveries != 1 {
			t.Errorf("result %d: got duplicate %v deliveries %d, want a new event with 1 delivery", i, r.Duplicate, r.Deliveries)
		}
	}
	if len(cs) != 2 {
		t.Fatalf("got %d claims, want 2 (the cap)", len(cs))
	}
	for i, c := range cs {
		d := c.Delivery
		if d.EndpointID != ep.ID || d.LeaseOwner != "n1" || d.Status != hookd.StatusPending || d.Attempts != 0 {
			t.Errorf("claim %d: got %+v, want a pending delivery of %s leased to n1", i, d, ep.ID)
		}
		wantTime(t, "claim LeaseExpiresAt", d.LeaseExpiresAt, now.Add(lease))
		wantTime(t, "claim NextAttemptAt", d.NextAttemptAt, t0)
		if c.Event == nil || c.Event.ID != d.EventID || c.Event.ID != evs[i].ID {
			t.Fatalf("claim %d: got event %+v, want %s (in ingest order)", i, c.Event, evs[i].ID)
		}
		wantEvent(t, c.Event, &evs[i].Event)
		if c.Endpoint == nil {
			t.Fatalf("claim %d: no endpoint", i)
		}
		wantEndpoint(t, c.Endpoint, ep)
		stored := f.delivery(d.ID)
		if stored.EventID != evs[i].ID || stored.LeaseOwner != "n1" || stored.Status != hookd.StatusPending {
			t.Errorf("stored delivery %s: got event %s owner %q status %s, want %s n1 pending",
				d.ID, stored.EventID, stored.LeaseOwner, stored.Status, evs[i].ID)
		}
		wantTime(t, "stored LeaseExpiresAt", stored.LeaseExpiresAt, now.Add(lease))
	}
	third := f.deliveries(hookd.DeliveryFilter{EventID: evs[2].ID})
	if len(third) != 1 || third[0].LeaseOwner != "" {
		t.Fatalf("third delivery: got %+v, want one unleased", third)
	}

	// Another node claims only the unleased one before the leases expire
	// (without a cap, so the cap is not what keeps it off them).
	other := f.claim(hookd.ClaimRequest{Owner: "n2", Now: now.Add(lease - time.Millisecond), Lease: lease, Limit: 10})
	if ids := claimIDs(other); len(ids) != 1 || ids[0] != third[0].ID {
		t.Fatalf("other node before expiry: got %v, want only %s", ids, third[0].ID)
	}
	// After they expire (a crash of n1), another node claims them.
	later := f.claim(hookd.ClaimRequest{Owner: "n3", Now: now.Add(lease + time.Millisecond), Lease: lease, Limit: 10})
	if len(later) != 2 || countByEndpoint(later)[ep.ID] != 2 || later[0].Delivery.ID == third[0].ID || later[1].Delivery.ID == third[0].ID {
		t.Fatalf("after expiry: got %v, want the two deliveries leased at ingest (n2's lease still holds)", claimIDs(later))
	}

	// The owner completes a delivery leased at ingest like any claim.
	got := f.delivery(cs[0].Delivery.ID)
	if got.LeaseOwner != "n3" {
		t.Fatalf("after the rescue: got owner %q, want n3", got.LeaseOwner)
	}
	f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "n3", Outcome: hookd.OutcomeSucceeded,
		Attempt: attempt(got.ID, 1, now.Add(lease+time.Second), 200)})
	if d := f.delivery(got.ID); d.Status != hookd.StatusSucceeded || d.LeaseOwner != "" {
		t.Errorf("after completion: got status %s owner %q, want succeeded without a lease", d.Status, d.LeaseOwner)
	}
}

// testIngestLeaseRules checks when IngestAndLease leases nothing: the
// endpoint is excluded, its circuit is open, it is rate-limited, it has a
// backlog of due work, the event is not due yet, the limit is used up, the
// event is a duplicate, or the limit is 0.
func testIngestLeaseRules(t *testing.T, open Opener) {
	const lease = 30 * time.Second
	now := t0.Add(time.Minute)
	req := func(limit int) hookd.ClaimRequest {
		return hookd.ClaimRequest{Owner: "n1", Now: now, Lease: lease, Limit: limit, DefaultMaxInFlight: 16}
	}
	cases := []struct {
		name      string
		mod       func(*hookd.Endpoint)
		before    func(f *fixture, ep *hookd.Endpoint) // runs before IngestAndLease
		req       func(ep *hookd.Endpoint) hookd.ClaimRequest
		events    int
		at        time.Time
		wantLease int
	}{
		{name: "leases all with room", events: 3, wantLease: 3},
		{name: "limit bounds", events: 3, req: func(*hookd.Endpoint) hookd.ClaimRequest { return req(2) }, wantLease: 2},
		{name: "uncapped limit bounds", events: 3, wantLease: 1, req: func(*hookd.Endpoint) hookd.ClaimRequest {
			return hookd.ClaimRequest{Owner: "n1", Now: now, Lease: lease, Limit: 1}
		}},
		{name: "limit 0 is IngestEvents", events: 2, req: func(*hookd.Endpoint) hookd.ClaimRequest { return req(0) }},
		{name: "excluded endpoint", events: 2, req: func(ep *hookd.Endpoint) hookd.ClaimRequest {
			r := req(10)
			r.ExcludeEndpoints = []string{ep.ID}
			return r
		}},
		{name: "open circuit", events: 2, mod: func(e *hookd.Endpoint) {
			e.Circuit = hookd.Circuit{State: hookd.CircuitOpen, ConsecutiveFailures: 10, OpenUntil: t0, Opens: 1}
		}},
		{name: "rate-limited endpoint", events: 2, mod: func(e *hookd.Endpoint) { e.RateLimitPerSecond = 100 }},
		{name: "endpoint cap counts other owners", events: 3, wantLease: 1,
			mod: func(e *hookd.Endpoint) { e.MaxInFlight = 2 },
			before: func(f *fixture, ep *hookd.Endpoint) {
				f.ingest(event("t", "x", t0))
				if cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 16}); len(cs) != 1 {
					f.t.Fatalf("setup claim: got %d, want 1", len(cs))
				}
			}},
		{name: "backlog is not overtaken", events: 2, before: func(f *fixture, ep *hookd.Endpoint) {
			f.ingest(event("t", "x", t0))
		}},
		{name: "expired lease is a backlog", events: 2, before: func(f *fixture, ep *hookd.Endpoint) {
			f.ingest(event("t", "x", t0))
			f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0, Lease: time.Second, Limit: 10})
		}},
		{name: "future retry is no backlog", events: 2, wantLease: 2, before: func(f *fixture, ep *hookd.Endpoint) {
			f.ingest(event("t", "x", now.Add(time.Hour)))
		}},
		{name: "event not due yet", events: 2, at: now.Add(time.Second)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open)
			var mods []func(*hookd.Endpoint)
			if c.mod != nil {
				mods = append(mods, c.mod)
			}
			ep := f.endpoint("t", mods...)
			if c.before != nil {
				c.before(f, ep)
			}
			r := req(10)
			if c.req != nil {
				r = c.req(ep)
			}
			at := c.at
			if at.IsZero() {
				at = t0.Add(time.Second)
			}
			var evs []hookd.NewEvent
			for range c.events {
				evs = append(evs, event("t", "x", at))
			}
			res, cs := f.ingestLease(r, evs...)
			if len(cs) != c.wantLease {
				t.Fatalf("got %d claims, want %d", len(cs), c.wantLease)
			}
			leased := 0
			for _, r := range res {
				for _, d := range f.deliveries(hookd.DeliveryFilter{EventID: r.Event.ID}) {
					if d.LeaseOwner == "n1" {
						leased++
					} else if d.LeaseOwner != "" {
						t.Errorf("new delivery %s leased to %q, want n1 or nobody", d.ID, d.LeaseOwner)
					}
				}
			}
			if leased != c.wantLease {
				t.Errorf("stored: got %d new deliveries leased to n1, want %d", leased, c.wantLease)
			}
		})
	}

	t.Run("duplicate leases nothing", func(t *testing.T) {
		t.Parallel()
		f := setup(t, open)
		f.endpoint("t")
		ev := event("t", "x", t0)
		ev.IdempotencyKey = "k"
		f.ingest(ev)
		f.claim(hookd.ClaimRequest{Owner: "n0", Now: now, Lease: lease, Limit: 10}) // no backlog
		again := event("t", "x", t0)
		again.IdempotencyKey = "k"
		res, cs := f.ingestLease(req(10), again)
		if !res[0].Duplicate || res[0].Deliveries != 0 || len(cs) != 0 {
			t.Errorf("got duplicate %v, %d deliveries, %d claims; want a duplicate with none", res[0].Duplicate, res[0].Deliveries, len(cs))
		}
	})
	t.Run("only endpoint is not leased", func(t *testing.T) {
		t.Parallel()
		f := setup(t, open)
		ep := f.endpoint("t")
		ev := event("t", "hookd.test", t0)
		ev.OnlyEndpointID = ep.ID
		res, cs := f.ingestLease(req(10), ev)
		if res[0].Deliveries != 1 || len(cs) != 0 {
			t.Errorf("got %d deliveries and %d claims, want 1 delivery on the claim path", res[0].Deliveries, len(cs))
		}
	})
	t.Run("fan-out leases per endpoint", func(t *testing.T) {
		t.Parallel()
		f := setup(t, open)
		a := f.endpoint("t", func(e *hookd.Endpoint) { e.MaxInFlight = 1 })
		b := f.endpoint("t", func(e *hookd.Endpoint) { e.MaxInFlight = 2 })
		f.endpoint("u") // another tenant: no delivery
		_, cs := f.ingestLease(req(10), event("t", "x", t0), event("t", "x", t0), event("t", "x", t0))
		if got := countByEndpoint(cs); got[a.ID] != 1 || got[b.ID] != 2 || len(cs) != 3 {
			t.Errorf("got claims per endpoint %v, want %s:1 %s:2", got, a.ID, b.ID)
		}
		for _, c := range cs {
			if c.Endpoint == nil || c.Endpoint.ID != c.Delivery.EndpointID || c.Event == nil || c.Event.ID != c.Delivery.EventID {
				t.Errorf("claim %s: event or endpoint does not match the delivery", c.Delivery.ID)
			}
		}
	})
}

// testIngestLeaseConcurrent mixes lease at ingest on several nodes with
// claims on others against one capped endpoint: the cap holds across
// every owner at every moment, and no delivery is leased twice.
func testIngestLeaseConcurrent(t *testing.T, open Opener) {
	f := setup(t, open)
	const capN = 3
	ep := f.endpoint("t", func(e *hookd.Endpoint) { e.MaxInFlight = capN })
	now := t0.Add(time.Minute)
	const lease = time.Hour
	var (
		mu     sync.Mutex
		leased = map[string]string{} // delivery -> owner
		errs   []error
		wg     sync.WaitGroup
	)
	record := func(owner string, cs []hookd.Claim) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range cs {
			if prev, ok := leased[c.Delivery.ID]; ok {
				errs = append(errs, fmt.Errorf("delivery %s leased to %s and %s", c.Delivery.ID, prev, owner))
			}
			leased[c.Delivery.ID] = owner
		}
	}
	for i := range 4 {
		owner := fmt.Sprintf("ingest-%d", i)
		wg.Go(func() {
			for range 5 {
				_, cs, err := f.s.IngestAndLease(f.ctx, []hookd.NewEvent{event("t", "x", t0), event("t", "x", t0)},
					hookd.ClaimRequest{Owner: owner, Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 16})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				record(owner, cs)
			}
		})
		claimer := fmt.Sprintf("claim-%d", i)
		wg.Go(func() {
			for range 5 {
				cs, err := f.s.ClaimDue(f.ctx, hookd.ClaimRequest{Owner: claimer, Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 16})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				record(claimer, cs)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(leased) > capN {
		t.Errorf("got %d deliveries leased in total, want at most the cap %d (every claim and ingest saw the others' leases)", len(leased), capN)
	}
	// A claim or ingest may skip an endpoint another one is claiming right
	// now (Postgres); a last claim alone fills the cap exactly.
	final := f.claim(hookd.ClaimRequest{Owner: "final", Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 16})
	record("final", final)
	if len(leased) != capN {
		t.Errorf("after a last claim: got %d deliveries leased, want the cap %d", len(leased), capN)
	}
	inFlight := 0
	for _, d := range f.deliveries(hookd.DeliveryFilter{EndpointID: ep.ID}) {
		if d.LeaseOwner != "" {
			inFlight++
			if leased[d.ID] != d.LeaseOwner {
				t.Errorf("stored delivery %s leased to %q, returned to %q", d.ID, d.LeaseOwner, leased[d.ID])
			}
		}
	}
	if inFlight != capN {
		t.Errorf("stored: got %d leased deliveries, want %d", inFlight, capN)
	}
}
