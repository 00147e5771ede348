package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testPurge: succeeded deliveries older than the cutoff go with their
// attempts; events go once no delivery is left; pending and dead deliveries
// keep their events; nothing newer than the cutoff is touched; limit holds.
func testPurge(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	old, recent := t0, t0.Add(48*time.Hour)
	cutoff := t0.Add(24 * time.Hour)

	var oldOK, oldDead, oldPending, newOK hookd.NewEvent
	oldOK, oldDead, oldPending = event("t", "ok", old), event("t", "dead", old), event("t", "pending", old)
	noSubscriber := event("nobody", "x", old)
	newOK = event("t", "ok", recent)
	f.ingest(oldOK, oldDead, oldPending, noSubscriber, newOK)

	cs := f.claim(hookd.ClaimRequest{Owner: "n", Now: recent, Limit: 10})
	var comps []hookd.Completion
	for _, c := range cs {
		comp := hookd.Completion{Owner: "n", Attempt: attempt(c.Delivery.ID, 1, recent, 200), Outcome: hookd.OutcomeSucceeded}
		switch c.Event.ID {
		case oldDead.ID:
			comp.Outcome, comp.Attempt.StatusCode = hookd.OutcomeDead, 500
		case oldPending.ID:
			comp.Outcome, comp.Attempt.StatusCode, comp.NextAttemptAt = hookd.OutcomeRetry, 500, recent.Add(time.Hour)
		}
		comps = append(comps, comp)
	}
	f.complete(hookd.CircuitPolicy{}, comps...)
	okDelivery := f.deliveries(hookd.DeliveryFilter{EventID: oldOK.ID})[0]

	// limit 1: one delivery and one event per call.
	d, e, err := f.s.Purge(f.ctx, cutoff, 1)
	if err != nil || d != 1 || e != 1 {
		t.Fatalf("Purge(limit 1): got %d deliveries, %d events, %v; want 1, 1", d, e, err)
	}
	for {
		d, e, err = f.s.Purge(f.ctx, cutoff, 100)
		if err != nil {
			t.Fatalf("Purge: %v", err)
		}
		if d == 0 && e == 0 {
			break
		}
	}
	_, err = f.s.GetDelivery(f.ctx, okDelivery.ID)
	wantCode(t, err, hookd.ENOTFOUND)
	_, _, err = f.s.ListAttempts(f.ctx, okDelivery.ID, hookd.Page{})
	wantCode(t, err, hookd.ENOTFOUND)
	for _, gone := range []string{oldOK.ID, noSubscriber.ID} {
		_, err := f.s.GetEvent(f.ctx, gone)
		wantCode(t, err, hookd.ENOTFOUND)
	}
	for _, kept := range []string{oldDead.ID, oldPending.ID, newOK.ID} {
		if _, err := f.s.GetEvent(f.ctx, kept); err != nil {
			t.Errorf("GetEvent(%s): %v; want it kept", kept, err)
		}
		if ds := f.deliveries(hookd.DeliveryFilter{EventID: kept}); len(ds) != 1 {
			t.Errorf("event %s: got %d deliveries, want 1 kept", kept, len(ds))
		}
	}
	// The purged idempotency key is free again.
	again := event("t", "ok", recent)
	again.IdempotencyKey = "k"
	f.ingest(again)
}
