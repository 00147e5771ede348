package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testCompleteAndClaim checks that CompleteAndClaim records completions as
// CompleteAttempts does and claims as ClaimDue does in one transaction: the
// room the completions free under the per-endpoint cap is claimed at once,
// and a failing completion writes nothing and claims nothing.
func testCompleteAndClaim(t *testing.T, open Opener) {
	const lease = 30 * time.Second
	cases := []struct {
		name        string
		complete    int           // how many of the first claim to complete
		outcome     hookd.Outcome // of every completion
		limit       int
		wantErr     bool
		wantClaimed int // by CompleteAndClaim
		wantLeased  int // leased to n1 afterwards, in the store
		wantDone    int // succeeded afterwards
	}{
		{name: "refills freed room", complete: 2, outcome: hookd.OutcomeSucceeded, limit: 10,
			wantClaimed: 2, wantLeased: 2, wantDone: 2},
		{name: "one freed slot", complete: 1, outcome: hookd.OutcomeSucceeded, limit: 10,
			wantClaimed: 1, wantLeased: 2, wantDone: 1},
		{name: "limit bounds the claim", complete: 2, outcome: hookd.OutcomeSucceeded, limit: 1,
			wantClaimed: 1, wantLeased: 1, wantDone: 2},
		{name: "limit 0 only completes", complete: 2, outcome: hookd.OutcomeSucceeded, limit: 0,
			wantClaimed: 0, wantLeased: 0, wantDone: 2},
		{name: "no completions only claims", complete: 0, limit: 10,
			wantClaimed: 0, wantLeased: 2, wantDone: 0},
		{name: "failed completion writes nothing", complete: 2, outcome: hookd.Outcome(99), limit: 10,
			wantErr: true, wantLeased: 2, wantDone: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open)
			ep := f.endpoint("t")
			other := f.endpoint("u")
			for i := range 5 {
				f.ingest(event("t", "x", t0.Add(time.Duration(i)*time.Second)))
			}
			f.ingest(event("u", "x", t0))
			now := t0.Add(time.Minute)
			req := hookd.ClaimRequest{Owner: "n1", Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 2,
				ExcludeEndpoints: []string{other.ID}}
			first := f.claim(req)
			if len(first) != 2 {
				t.Fatalf("first claim: got %d, want 2 (the cap)", len(first))
			}
			var comps []hookd.Completion
			for _, cl := range first[:c.complete] {
				comps = append(comps, hookd.Completion{Owner: "n1", Outcome: c.outcome,
					Attempt: attempt(cl.Delivery.ID, 1, now, 200)})
			}
			req.Limit = c.limit
			req.Now = now.Add(time.Second)
			got, err := f.s.CompleteAndClaim(f.ctx, comps, hookd.CircuitPolicy{}, req)
			if (err != nil) != c.wantErr {
				t.Fatalf("CompleteAndClaim: got error %v, want error %v", err, c.wantErr)
			}
			if len(got) != c.wantClaimed {
				t.Fatalf("got %d claims, want %d", len(got), c.wantClaimed)
			}
			firstIDs := map[string]bool{}
			for _, cl := range first {
				firstIDs[cl.Delivery.ID] = true
			}
			for _, cl := range got {
				d := cl.Delivery
				if d.EndpointID != ep.ID || d.LeaseOwner != "n1" || firstIDs[d.ID] {
					t.Errorf("claimed %s of %s leased to %q, want a new delivery of %s leased to n1",
						d.ID, d.EndpointID, d.LeaseOwner, ep.ID)
				}
				if cl.Event == nil || cl.Event.ID != d.EventID || cl.Endpoint == nil || cl.Endpoint.ID != ep.ID {
					t.Errorf("claim %s without its event and endpoint", d.ID)
				}
				wantTime(t, "LeaseExpiresAt", d.LeaseExpiresAt, req.Now.Add(lease))
			}
			ds := f.deliveries(hookd.DeliveryFilter{EndpointID: ep.ID})
			leased, done := 0, 0
			for _, d := range ds {
				if d.Status == hookd.StatusPending && d.LeaseOwner == "n1" {
					leased++
				}
				if d.Status == hookd.StatusSucceeded {
					done++
					if d.Attempts != 1 || d.LastStatusCode != 200 {
						t.Errorf("succeeded delivery %s: got %d attempts, code %d, want 1 and 200", d.ID, d.Attempts, d.LastStatusCode)
					}
				}
			}
			if leased != c.wantLeased || done != c.wantDone {
				t.Errorf("got %d leased and %d succeeded, want %d and %d", leased, done, c.wantLeased, c.wantDone)
			}
			if c.wantErr {
				as, _, err := f.s.ListAttempts(f.ctx, first[0].Delivery.ID, hookd.Page{})
				if err != nil {
					t.Fatalf("ListAttempts: %v", err)
				}
				if len(as) != 0 {
					t.Errorf("got %d attempts after a failed call, want 0", len(as))
				}
			}
			// The excluded endpoint is never claimed.
			if od := f.deliveries(hookd.DeliveryFilter{EndpointID: other.ID}); len(od) != 1 || od[0].LeaseOwner != "" {
				t.Errorf("excluded endpoint's delivery was leased")
			}
		})
	}
}
