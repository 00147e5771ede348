package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testClaimCapped checks ClaimRequest.Capped: a claim says it left due work
// behind an endpoint's cap, counting every owner's leases, and says nothing
// of a full endpoint with nothing due, of an excluded one, or when it
// returned its whole limit; CompleteAndClaim's claim says it too.
func testClaimCapped(t *testing.T, open Opener) {
	f := setup(t, open)
	a := f.endpoint("a")
	f.endpoint("c", func(e *hookd.Endpoint) { e.MaxInFlight = 1 })
	now := t0.Add(time.Minute)
	const lease = 30 * time.Second
	claim := func(what string, r hookd.ClaimRequest, wantClaims int, want bool) []hookd.Claim {
		t.Helper()
		capped := !want // overwritten by the claim
		r.Now, r.Lease, r.DefaultMaxInFlight, r.Capped = now, lease, 2, &capped
		if r.Limit == 0 {
			r.Limit = 10
		}
		cs := f.claim(r)
		if len(cs) != wantClaims || capped != want {
			t.Errorf("%s: got %d claims, Capped %v; want %d, %v", what, len(cs), capped, wantClaims, want)
		}
		return cs
	}

	// Full (MaxInFlight 1) with nothing more due: not capped.
	f.ingest(event("c", "x", t0))
	claim("full, nothing left", hookd.ClaimRequest{Owner: "n1"}, 1, false)

	for i := range 4 {
		f.ingest(event("a", "x", t0.Add(time.Duration(i)*time.Second)))
	}
	first := claim("stopped at the cap", hookd.ClaimRequest{Owner: "n1"}, 2, true)
	claim("full of another owner's leases", hookd.ClaimRequest{Owner: "n2"}, 0, true)
	claim("capped endpoint excluded", hookd.ClaimRequest{Owner: "n2", ExcludeEndpoints: []string{a.ID}}, 0, false)

	// The claim of CompleteAndClaim: one of a's completed, its room taken,
	// one more due behind the cap.
	capped := false
	cs, err := f.s.CompleteAndClaim(f.ctx, []hookd.Completion{{Owner: "n1", Outcome: hookd.OutcomeSucceeded,
		Attempt: attempt(first[0].Delivery.ID, 1, now, 200)}}, hookd.CircuitPolicy{},
		hookd.ClaimRequest{Owner: "n2", Now: now, Lease: lease, Limit: 10, DefaultMaxInFlight: 2, Capped: &capped})
	if err != nil {
		t.Fatalf("CompleteAndClaim: %v", err)
	}
	if len(cs) != 1 || !capped {
		t.Errorf("CompleteAndClaim: got %d claims, Capped %v; want 1, true", len(cs), capped)
	}

	// Once the leases expire there is room again; a claim that fills its
	// limit does not look and says false.
	now = now.Add(lease + time.Second)
	claim("limit reached", hookd.ClaimRequest{Owner: "n3", Limit: 1}, 1, false)
	// a has room for two of its three due deliveries again.
	claim("capped after expiry", hookd.ClaimRequest{Owner: "n3"}, 2, true)
}
