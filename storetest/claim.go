package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func testClaimDue(t *testing.T, open Opener) {
	f := setup(t, open)
	e1 := f.endpoint("t")
	e2 := f.endpoint("t")
	// Ingest newest first so that due order is not insertion order.
	var evs []hookd.NewEvent
	for _, d := range []time.Duration{10 * time.Minute, 2 * time.Second, time.Second, 0} {
		evs = append(evs, event("t", "x", t0.Add(d)))
	}
	f.ingest(evs...)
	now := t0.Add(5 * time.Second)
	lease := time.Hour

	first := f.claim(hookd.ClaimRequest{Owner: "n1", Now: now, Lease: lease, Limit: 4})
	second := f.claim(hookd.ClaimRequest{Owner: "n1", Now: now, Lease: lease, Limit: 10})
	if len(first) != 4 || len(second) != 2 {
		t.Fatalf("got claims of %d and %d, want 4 and 2 (the future event is not due)", len(first), len(second))
	}
	all := append(first, second...)
	wantAt := []time.Time{t0, t0, t0.Add(time.Second), t0.Add(time.Second), t0.Add(2 * time.Second), t0.Add(2 * time.Second)}
	seen := map[string]bool{}
	for i, c := range all {
		d := c.Delivery
		wantTime(t, "NextAttemptAt (oldest first)", d.NextAttemptAt, wantAt[i])
		if d.LeaseOwner != "n1" || d.Status != hookd.StatusPending {
			t.Errorf("claim %d: got owner %q status %q, want n1 pending", i, d.LeaseOwner, d.Status)
		}
		wantTime(t, "LeaseExpiresAt", d.LeaseExpiresAt, now.Add(lease))
		if c.Event == nil || c.Event.ID != d.EventID || string(c.Event.Payload) != string(evs[0].Payload) {
			t.Errorf("claim %d: got event %+v, want %s with its payload", i, c.Event, d.EventID)
		}
		if c.Endpoint == nil || c.Endpoint.ID != d.EndpointID || (d.EndpointID != e1.ID && d.EndpointID != e2.ID) {
			t.Errorf("claim %d: got endpoint %+v, want %s", i, c.Endpoint, d.EndpointID)
		} else if c.Endpoint.Secret == "" || c.Endpoint.URL == "" {
			t.Errorf("claim %d: endpoint lacks its secret or url", i)
		}
		if seen[d.ID] {
			t.Errorf("delivery %s claimed twice", d.ID)
		}
		seen[d.ID] = true
		stored := f.delivery(d.ID)
		if stored.LeaseOwner != "n1" {
			t.Errorf("stored lease owner: got %q, want n1", stored.LeaseOwner)
		}
		wantTime(t, "stored LeaseExpiresAt", stored.LeaseExpiresAt, now.Add(lease))
	}
	if cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: now, Lease: lease, Limit: 10}); len(cs) != 0 {
		t.Errorf("got %d claims of leased deliveries, want 0", len(cs))
	}
	if cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0.Add(10 * time.Minute), Lease: lease, Limit: 10}); len(cs) != 2 {
		t.Errorf("got %d claims once the last event is due, want 2", len(cs))
	}
}

func testClaimLeaseExpiry(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	f.ingest(event("t", "x", t0), event("t", "x", t0))
	lease := 30 * time.Second
	if cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Lease: lease, Limit: 10}); len(cs) != 2 {
		t.Fatalf("got %d claims, want 2", len(cs))
	}
	if cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0.Add(lease - time.Millisecond), Lease: lease, Limit: 10}); len(cs) != 0 {
		t.Errorf("before expiry: got %d claims, want 0", len(cs))
	}
	// A crashed node's expired lease is rescued by the next claim.
	later := t0.Add(lease + time.Millisecond)
	cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: later, Lease: lease, Limit: 10})
	if len(cs) != 2 {
		t.Fatalf("after expiry: got %d claims, want 2", len(cs))
	}
	for _, c := range cs {
		if c.Delivery.LeaseOwner != "n2" || c.Delivery.Attempts != 0 {
			t.Errorf("got owner %q attempts %d, want n2 and 0", c.Delivery.LeaseOwner, c.Delivery.Attempts)
		}
		wantTime(t, "LeaseExpiresAt", c.Delivery.LeaseExpiresAt, later.Add(lease))
	}
}

func testClaimConcurrent(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	const n = 300
	evs := make([]hookd.NewEvent, n)
	for i := range evs {
		evs[i] = event("t", "x", t0)
	}
	f.ingest(evs...)

	var (
		mu   sync.Mutex
		got  = map[string]int{}
		errs = make(chan error, 6)
		wg   sync.WaitGroup
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				cs, err := f.s.ClaimDue(f.ctx, hookd.ClaimRequest{Owner: "w" + string(rune('a'+w)), Now: t0, Lease: time.Hour, Limit: 7})
				if err != nil {
					errs <- err
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					got[c.Delivery.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimDue: %v", err)
	}
	if len(got) != n {
		t.Errorf("got %d distinct deliveries claimed, want %d", len(got), n)
	}
	for id, c := range got {
		if c != 1 {
			t.Errorf("delivery %s claimed %d times, want once", id, c)
		}
	}
}

func testClaimSkipsEndpoints(t *testing.T, open Opener) {
	f := setup(t, open)
	ok := f.endpoint("t")
	disabled := f.endpoint("t")
	broken := f.endpoint("t")
	excluded := f.endpoint("t")
	f.ingest(event("t", "x", t0), event("t", "x", t0))

	// Open broken's circuit: one failed attempt with threshold 1.
	policy := hookd.CircuitPolicy{Threshold: 1, Cooldown: time.Minute, MaxCooldown: time.Hour}
	cs := f.claim(hookd.ClaimRequest{Owner: "warm", Now: t0, Limit: 1, ExcludeEndpoints: []string{ok.ID, disabled.ID, excluded.ID}})
	if len(cs) != 1 || cs[0].Delivery.EndpointID != broken.ID {
		t.Fatalf("got claims %v, want one of the broken endpoint", claimIDs(cs))
	}
	f.complete(policy, hookd.Completion{Owner: "warm", Outcome: hookd.OutcomeRetry, NextAttemptAt: t0,
		Attempt: hookd.Attempt{DeliveryID: cs[0].Delivery.ID, Number: 1, StartedAt: t0, StatusCode: 500}})
	if c := f.getEndpoint(broken.ID).Circuit; c.State != hookd.CircuitOpen {
		t.Fatalf("got circuit %+v, want open", c)
	}
	if _, err := f.s.UpdateEndpointFields(f.ctx, disabled.ID, hookd.EndpointUpdate{Disabled: hookd.Ptr(true)}); err != nil {
		t.Fatalf("UpdateEndpointFields: %v", err)
	}

	only := func(cs []hookd.Claim, endpointID string, n int) {
		t.Helper()
		m := countByEndpoint(cs)
		if len(cs) != n || m[endpointID] != n {
			t.Errorf("got claims per endpoint %v, want %d of %s", m, n, endpointID)
		}
	}
	// Circuit open until t0+1m: only ok's.
	only(f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0.Add(time.Second), Limit: 100, ExcludeEndpoints: []string{excluded.ID}}), ok.ID, 2)
	// Cool-down over: broken's two (the failed one, due again, and the other).
	only(f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0.Add(2 * time.Minute), Limit: 100, ExcludeEndpoints: []string{excluded.ID}}), broken.ID, 2)
	// Not excluded any more: excluded's.
	only(f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0.Add(3 * time.Minute), Limit: 100}), excluded.ID, 2)
	// The disabled endpoint's deliveries never come.
	only(f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0.Add(4 * time.Minute), Limit: 100}), disabled.ID, 0)
}

// testClaimMaxInFlight checks the cluster-wide per-endpoint cap and that a
// saturated endpoint's old backlog does not starve another endpoint.
func testClaimMaxInFlight(t *testing.T, open Opener) {
	f := setup(t, open)
	a := f.endpoint("a")
	b := f.endpoint("b")
	c := f.endpoint("c", func(e *hookd.Endpoint) { e.MaxInFlight = 3 })
	evs := make([]hookd.NewEvent, 0, 1006)
	for range 1000 {
		evs = append(evs, event("a", "x", t0))
	}
	evs = append(evs, event("b", "x", t0.Add(time.Second)))
	for range 5 {
		evs = append(evs, event("c", "x", t0.Add(2*time.Second)))
	}
	f.ingest(evs...)
	now := t0.Add(time.Minute)
	lease := 30 * time.Second
	req := func(owner string, now time.Time) hookd.ClaimRequest {
		return hookd.ClaimRequest{Owner: owner, Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 2}
	}
	wantCounts := func(what string, cs []hookd.Claim, want map[string]int) {
		t.Helper()
		got := countByEndpoint(cs)
		for _, id := range []string{a.ID, b.ID, c.ID} {
			if got[id] != want[id] {
				t.Errorf("%s: got per endpoint A=%d B=%d C=%d, want A=%d B=%d C=%d", what,
					got[a.ID], got[b.ID], got[c.ID], want[a.ID], want[b.ID], want[c.ID])
				return
			}
		}
		for i := 1; i < len(cs); i++ {
			if cs[i].Delivery.NextAttemptAt.Before(cs[i-1].Delivery.NextAttemptAt) {
				t.Errorf("%s: claims not oldest first", what)
			}
		}
	}

	first := f.claim(req("n1", now))
	wantCounts("first claim", first, map[string]int{a.ID: 2, b.ID: 1, c.ID: 3})
	// The cap counts every owner's leases.
	wantCounts("other node", f.claim(req("n2", now)), map[string]int{})

	// Completing one of A's frees one slot.
	var doneA string
	for _, cl := range first {
		if cl.Delivery.EndpointID == a.ID {
			doneA = cl.Delivery.ID
			break
		}
	}
	f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeSucceeded,
		Attempt: attempt(doneA, 1, now, 200)})
	wantCounts("after a completion", f.claim(req("n2", now)), map[string]int{a.ID: 1})

	// Expired leases do not count.
	later := now.Add(lease + time.Second)
	wantCounts("after expiry", f.claim(req("n3", later)), map[string]int{a.ID: 2, b.ID: 1, c.ID: 3})

	// No cap when DefaultMaxInFlight is 0.
	uncapped := f.claim(hookd.ClaimRequest{Owner: "n4", Now: later.Add(lease + time.Second), Lease: lease, Limit: 10})
	if len(uncapped) != 10 {
		t.Errorf("uncapped: got %d claims, want 10", len(uncapped))
	}
}

func testReleaseDeliveries(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	f.ingest(event("t", "x", t0), event("t", "x", t0), event("t", "x", t0))
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Limit: 10})
	if len(cs) != 3 {
		t.Fatalf("got %d claims, want 3", len(cs))
	}
	ids := claimIDs(cs)
	if err := f.s.ReleaseDeliveries(f.ctx, "n2", ids); err != nil {
		t.Fatalf("ReleaseDeliveries: %v", err)
	}
	if got := f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0, Limit: 10}); len(got) != 0 {
		t.Errorf("another owner released n1's claims: got %d claims, want 0", len(got))
	}
	if err := f.s.ReleaseDeliveries(f.ctx, "n1", ids[:2]); err != nil {
		t.Fatalf("ReleaseDeliveries: %v", err)
	}
	for _, id := range ids[:2] {
		d := f.delivery(id)
		if d.LeaseOwner != "" || !d.LeaseExpiresAt.IsZero() || d.Attempts != 0 || d.Status != hookd.StatusPending {
			t.Errorf("released: got %+v, want pending, no lease, no attempt", d)
		}
		wantTime(t, "NextAttemptAt", d.NextAttemptAt, t0)
	}
	got := f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0, Limit: 10})
	if gotIDs := claimIDs(got); len(gotIDs) != 2 || gotIDs[0] == ids[2] || gotIDs[1] == ids[2] {
		t.Errorf("got claims %v after release, want %v", gotIDs, ids[:2])
	}
}
