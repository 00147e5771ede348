package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func testJobLease(t *testing.T, open Opener) {
	f := setup(t, open)
	ttl := time.Minute
	steps := []struct {
		job, owner string
		at         time.Duration
		want       bool
	}{
		{"retention", "n1", 0, true},                                  // free
		{"retention", "n2", 30 * time.Second, false},                  // held by n1
		{"alerts", "n2", 30 * time.Second, true},                      // another job is independent
		{"retention", "n1", 50 * time.Second, true},                   // renewal, until 1m50s
		{"retention", "n2", 70 * time.Second, false},                  // the renewal holds
		{"retention", "n2", 110*time.Second + time.Millisecond, true}, // expired
		{"retention", "n1", 120 * time.Second, false},                 // now n2's
	}
	for i, s := range steps {
		got, err := f.s.AcquireJobLease(f.ctx, s.job, s.owner, t0.Add(s.at), ttl)
		if err != nil {
			t.Fatalf("step %d: AcquireJobLease: %v", i, err)
		}
		if got != s.want {
			t.Errorf("step %d: %s by %s at +%v: got %v, want %v", i, s.job, s.owner, s.at, got, s.want)
		}
	}
}

func testSettings(t *testing.T, open Opener) {
	f := setup(t, open)
	_, err := f.s.Setting(f.ctx, "api_key_hash")
	wantCode(t, err, hookd.ENOTFOUND)
	for i, want := range []bool{true, false} {
		stored, err := f.s.PutSettingIfAbsent(f.ctx, "api_key_hash", []string{"first", "second"}[i])
		if err != nil {
			t.Fatalf("PutSettingIfAbsent: %v", err)
		}
		if stored != want {
			t.Errorf("put #%d: got stored %v, want %v", i+1, stored, want)
		}
	}
	v, err := f.s.Setting(f.ctx, "api_key_hash")
	if err != nil || v != "first" {
		t.Errorf("Setting: got %q, %v; want \"first\"", v, err)
	}
}

func testDeleteCascade(t *testing.T, open Opener) {
	f := setup(t, open)
	ep1 := f.endpoint("t")
	ep2 := f.endpoint("t")
	ev := event("t", "x", t0)
	f.ingest(ev)
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Limit: 10})
	var comps []hookd.Completion
	for _, c := range cs {
		comps = append(comps, hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeRetry, NextAttemptAt: t0,
			Attempt: attempt(c.Delivery.ID, 1, t0, 500)})
	}
	f.complete(hookd.CircuitPolicy{}, comps...)
	if err := f.s.DeleteEndpoint(f.ctx, ep1.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	for _, c := range cs {
		_, err := f.s.GetDelivery(f.ctx, c.Delivery.ID)
		_, _, aerr := f.s.ListAttempts(f.ctx, c.Delivery.ID, hookd.Page{})
		if c.Delivery.EndpointID == ep1.ID {
			wantCode(t, err, hookd.ENOTFOUND)
			wantCode(t, aerr, hookd.ENOTFOUND)
		} else if err != nil || aerr != nil {
			t.Errorf("ep2's delivery: got %v, %v; want it kept", err, aerr)
		}
	}
	if ds := f.deliveries(hookd.DeliveryFilter{EndpointID: ep1.ID}); len(ds) != 0 {
		t.Errorf("got %d deliveries of the deleted endpoint, want 0", len(ds))
	}
	if cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0.Add(2 * time.Hour), Limit: 10}); len(cs) != 1 || cs[0].Delivery.EndpointID != ep2.ID {
		t.Errorf("got claims %v, want only ep2's", claimIDs(cs))
	}
	if _, err := f.s.GetEvent(f.ctx, ev.ID); err != nil {
		t.Errorf("GetEvent: the event must survive its endpoint: %v", err)
	}
}

func testPing(t *testing.T, open Opener) {
	f := setup(t, open)
	if err := f.s.Ping(f.ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
