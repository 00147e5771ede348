package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testCompleteBatchMixed: a CompleteAttempts call with completions of
// several kinds records each as if alone and in order: a success, a retry
// (its next attempt time), a death and a completion whose lease another
// owner holds now (its attempt is kept, the delivery is not touched); then
// a call with the same delivery twice (the first completion decides its
// state, both attempts are kept) and an attempt recorded already.
func testCompleteBatchMixed(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	for i := range 5 {
		f.ingest(event("t", "x", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	lease := 30 * time.Second
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0.Add(time.Second), Lease: lease, Limit: 5})
	if len(cs) != 5 {
		t.Fatalf("got %d claims, want 5", len(cs))
	}
	ok, retry, dead, lost, twice := cs[0].Delivery.ID, cs[1].Delivery.ID, cs[2].Delivery.ID, cs[3].Delivery.ID, cs[4].Delivery.ID
	// n1 lets lost go and n2 takes it.
	if err := f.s.ReleaseDeliveries(f.ctx, "n1", []string{lost}); err != nil {
		t.Fatalf("ReleaseDeliveries: %v", err)
	}
	later := t0.Add(2 * time.Second)
	if got := f.claim(hookd.ClaimRequest{Owner: "n2", Now: later, Lease: lease, Limit: 5}); len(got) != 1 || got[0].Delivery.ID != lost {
		t.Fatalf("n2's claim: got %d claims, want lost alone", len(got))
	}
	next := later.Add(time.Hour)
	f.complete(hookd.CircuitPolicy{},
		hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeSucceeded, Attempt: attempt(ok, 1, t0, 200)},
		hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeRetry, NextAttemptAt: next, Attempt: attempt(retry, 1, t0, 500)},
		hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeDead, Attempt: attempt(dead, 1, t0, 400)},
		hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeSucceeded, Attempt: attempt(lost, 1, t0, 200)},
	)
	f.complete(hookd.CircuitPolicy{},
		hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeSucceeded, Attempt: attempt(ok, 1, t0, 200)}, // again: changes nothing
		hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeRetry, NextAttemptAt: next, Attempt: attempt(twice, 1, t0, 503)},
		hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeSucceeded, Attempt: attempt(twice, 2, t0.Add(time.Millisecond), 200)},
	)
	want := map[string]struct {
		status   hookd.DeliveryStatus
		attempts int
		code     int
		owner    string
		rows     int
	}{
		ok:    {hookd.StatusSucceeded, 1, 200, "", 1},
		retry: {hookd.StatusPending, 1, 500, "", 1},
		dead:  {hookd.StatusDead, 1, 400, "", 1},
		lost:  {hookd.StatusPending, 0, 0, "n2", 1},
		twice: {hookd.StatusPending, 1, 503, "", 2},
	}
	for id, w := range want {
		d := f.delivery(id)
		if d.Status != w.status || d.Attempts != w.attempts || d.LastStatusCode != w.code || d.LeaseOwner != w.owner {
			t.Errorf("%s: got status %s, %d attempts, last code %d, owner %q; want %s, %d, %d, %q",
				id, d.Status, d.Attempts, d.LastStatusCode, d.LeaseOwner, w.status, w.attempts, w.code, w.owner)
		}
		as, _, err := f.s.ListAttempts(f.ctx, id, hookd.Page{})
		if err != nil || len(as) != w.rows {
			t.Errorf("%s: %d attempt rows, %v; want %d", id, len(as), err, w.rows)
		}
	}
	wantTime(t, "retry's next attempt", f.delivery(retry).NextAttemptAt, next)
	wantTime(t, "twice's next attempt (its first completion's)", f.delivery(twice).NextAttemptAt, next)
}
