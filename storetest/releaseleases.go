package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testReleaseLeasesExpiringAt: the leases of exactly one claim call (owner and lease
// end) are cleared; another claim of the same owner and another owner's
// claim keep theirs.
func testReleaseLeasesExpiringAt(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	f.ingest(event("t", "x", t0), event("t", "x", t0), event("t", "x", t0))
	lease := time.Minute
	first := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Lease: lease, Limit: 1})
	second := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0.Add(time.Second), Lease: lease, Limit: 1})
	other := f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0, Lease: lease, Limit: 1})
	if len(first) != 1 || len(second) != 1 || len(other) != 1 {
		t.Fatalf("claims: got %d, %d, %d; want 1 each", len(first), len(second), len(other))
	}
	// t0 carries nanoseconds: the store matches at microsecond precision.
	n, err := f.s.ReleaseLeasesExpiringAt(f.ctx, "n1", t0.Add(lease))
	if err != nil || n != 1 {
		t.Fatalf("ReleaseLeasesExpiringAt: got %d, %v; want 1", n, err)
	}
	if d := f.delivery(first[0].Delivery.ID); d.LeaseOwner != "" || d.Attempts != 0 {
		t.Errorf("released delivery: owner %q attempts %d, want no lease and no attempt spent", d.LeaseOwner, d.Attempts)
	}
	for _, c := range []hookd.Claim{second[0], other[0]} {
		if d := f.delivery(c.Delivery.ID); d.LeaseOwner == "" {
			t.Errorf("delivery %s lost a lease it should keep", d.ID)
		}
	}
	again := f.claim(hookd.ClaimRequest{Owner: "n3", Now: t0.Add(2 * time.Second), Lease: lease, Limit: 10})
	if len(again) != 1 || again[0].Delivery.ID != first[0].Delivery.ID {
		t.Errorf("claim after release: got %v, want only %s", claimIDs(again), first[0].Delivery.ID)
	}
	if n, err := f.s.ReleaseLeasesExpiringAt(f.ctx, "n1", t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("ReleaseLeasesExpiringAt of no claim: got %d, %v; want 0", n, err)
	}
}
