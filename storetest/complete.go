package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func testCompleteOutcomes(t *testing.T, open Opener) {
	f := setup(t, open)
	type tc struct {
		name     string
		outcome  hookd.Outcome
		code     int
		errText  string
		status   hookd.DeliveryStatus
		disabled bool
		endpoint *hookd.Endpoint
		ev       hookd.NewEvent
	}
	cases := []*tc{
		{name: "succeeded", outcome: hookd.OutcomeSucceeded, code: 204, status: hookd.StatusSucceeded},
		{name: "retry", outcome: hookd.OutcomeRetry, code: 503, errText: "503 Service Unavailable", status: hookd.StatusPending},
		{name: "dead", outcome: hookd.OutcomeDead, code: 0, errText: "dial tcp: connection refused", status: hookd.StatusDead},
		{name: "gone", outcome: hookd.OutcomeGone, code: 410, errText: "410 Gone", status: hookd.StatusDead, disabled: true},
	}
	var evs []hookd.NewEvent
	for _, c := range cases {
		c.endpoint = f.endpoint(c.name)
		c.ev = event(c.name, "x", t0)
		evs = append(evs, c.ev)
	}
	f.ingest(evs...)
	claims := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Limit: 10})
	if len(claims) != len(cases) {
		t.Fatalf("got %d claims, want %d", len(claims), len(cases))
	}
	byEndpoint := map[string]string{}
	for _, c := range claims {
		byEndpoint[c.Delivery.EndpointID] = c.Delivery.ID
	}
	started := t0.Add(time.Second)
	retryAt := t0.Add(10 * time.Minute)
	var comps []hookd.Completion
	for _, c := range cases {
		a := attempt(byEndpoint[c.endpoint.ID], 1, started, c.code)
		a.Error = c.errText
		comps = append(comps, hookd.Completion{Owner: "n1", Attempt: a, Outcome: c.outcome,
			NextAttemptAt: retryAt, DisableReason: "endpoint answered 410 Gone"})
	}
	f.complete(hookd.CircuitPolicy{}, comps...)

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := f.delivery(byEndpoint[c.endpoint.ID])
			if d.Status != c.status || d.Attempts != 1 || d.LastStatusCode != c.code || d.LastError != c.errText ||
				d.LeaseOwner != "" || !d.LeaseExpiresAt.IsZero() {
				t.Errorf("got delivery %+v, want status %s, 1 attempt, code %d, error %q, no lease", d, c.status, c.code, c.errText)
			}
			if c.outcome == hookd.OutcomeRetry {
				wantTime(t, "NextAttemptAt", d.NextAttemptAt, retryAt)
			}
			e := f.getEndpoint(c.endpoint.ID)
			if e.Disabled != c.disabled {
				t.Errorf("endpoint disabled: got %v, want %v", e.Disabled, c.disabled)
			}
			if c.disabled && e.DisabledReason != "endpoint answered 410 Gone" {
				t.Errorf("DisabledReason: got %q", e.DisabledReason)
			}
			as, next, err := f.s.ListAttempts(f.ctx, d.ID, hookd.Page{})
			if err != nil {
				t.Fatalf("ListAttempts: %v", err)
			}
			if len(as) != 1 || next != "" {
				t.Fatalf("got %d attempts and cursor %q, want 1 and none", len(as), next)
			}
			want := comps[i].Attempt
			got := as[0]
			if got.DeliveryID != d.ID || got.Number != 1 || got.StatusCode != want.StatusCode ||
				got.Latency != want.Latency || got.ResponseBody != want.ResponseBody || got.Error != want.Error {
				t.Errorf("got attempt %+v, want %+v", got, want)
			}
			wantTime(t, "StartedAt", got.StartedAt, started)
		})
	}

	// The retried delivery comes back at NextAttemptAt for attempt 2.
	retried := byEndpoint[cases[1].endpoint.ID]
	if cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: retryAt.Add(-time.Second), Limit: 10}); len(cs) != 0 {
		t.Errorf("got %d claims before NextAttemptAt, want 0", len(cs))
	}
	cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: retryAt, Limit: 10})
	if len(cs) != 1 || cs[0].Delivery.ID != retried || cs[0].Delivery.Attempts != 1 {
		t.Fatalf("got claims %v, want the retried delivery with 1 attempt", claimIDs(cs))
	}
	f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "n2", Outcome: hookd.OutcomeSucceeded, Attempt: attempt(retried, 2, retryAt, 200)})
	if d := f.delivery(retried); d.Status != hookd.StatusSucceeded || d.Attempts != 2 || d.LastStatusCode != 200 || d.LastError != "" {
		t.Errorf("got %+v, want succeeded after 2 attempts", d)
	}
}

func testCompleteLostLease(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	f.ingest(event("t", "x", t0))
	lease := 30 * time.Second
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Lease: lease, Limit: 1})
	if len(cs) != 1 {
		t.Fatalf("got %d claims, want 1", len(cs))
	}
	id := cs[0].Delivery.ID
	later := t0.Add(lease + time.Second)
	if cs := f.claim(hookd.ClaimRequest{Owner: "n2", Now: later, Lease: lease, Limit: 1}); len(cs) != 1 {
		t.Fatalf("rescue: got %d claims, want 1", len(cs))
	}
	// n1 finishes late: its attempt is recorded, the delivery is n2's.
	f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeSucceeded, Attempt: attempt(id, 1, t0, 200)})
	d := f.delivery(id)
	if d.Status != hookd.StatusPending || d.LeaseOwner != "n2" || d.Attempts != 0 || d.LastStatusCode != 0 {
		t.Errorf("got %+v, want still pending, leased to n2, 0 attempts", d)
	}
	wantTime(t, "LeaseExpiresAt", d.LeaseExpiresAt, later.Add(lease))
	as, _, err := f.s.ListAttempts(f.ctx, id, hookd.Page{})
	if err != nil || len(as) != 1 || as[0].Number != 1 || as[0].StatusCode != 200 {
		t.Fatalf("ListAttempts: got %v, %v; want n1's attempt 1", as, err)
	}
	// n2 completes with the same number: no error, the delivery is done.
	f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "n2", Outcome: hookd.OutcomeDead, Attempt: attempt(id, 1, later, 500)})
	if d := f.delivery(id); d.Status != hookd.StatusDead || d.Attempts != 1 || d.LeaseOwner != "" {
		t.Errorf("got %+v, want dead with 1 attempt and no lease", d)
	}
	if as, _, err := f.s.ListAttempts(f.ctx, id, hookd.Page{}); err != nil || len(as) != 1 {
		t.Errorf("ListAttempts: got %d attempts, %v; want 1", len(as), err)
	}
}

func testCompleteDeletedDelivery(t *testing.T, open Opener) {
	f := setup(t, open)
	gone := f.endpoint("t")
	kept := f.endpoint("t")
	f.ingest(event("t", "x", t0))
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Limit: 10})
	if len(cs) != 2 {
		t.Fatalf("got %d claims, want 2", len(cs))
	}
	if err := f.s.DeleteEndpoint(f.ctx, gone.ID); err != nil {
		t.Fatalf("DeleteEndpoint: %v", err)
	}
	var comps []hookd.Completion
	for _, c := range cs {
		comps = append(comps, hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeSucceeded, Attempt: attempt(c.Delivery.ID, 1, t0, 200)})
	}
	f.complete(hookd.DefaultCircuitPolicy, comps...)
	for _, c := range cs {
		if c.Delivery.EndpointID == gone.ID {
			_, err := f.s.GetDelivery(f.ctx, c.Delivery.ID)
			wantCode(t, err, hookd.ENOTFOUND)
			_, _, err = f.s.ListAttempts(f.ctx, c.Delivery.ID, hookd.Page{})
			wantCode(t, err, hookd.ENOTFOUND)
		} else if d := f.delivery(c.Delivery.ID); d.EndpointID != kept.ID || d.Status != hookd.StatusSucceeded {
			t.Errorf("the other delivery of the batch: got %+v, want succeeded", d)
		}
	}
}

func testCircuit(t *testing.T, open Opener) {
	f := setup(t, open)
	ep := f.endpoint("t")
	evs := make([]hookd.NewEvent, 8)
	for i := range evs {
		evs[i] = event("t", "x", t0)
	}
	f.ingest(evs...)
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Limit: 10})
	if len(cs) != len(evs) {
		t.Fatalf("got %d claims, want %d", len(cs), len(evs))
	}
	policy := hookd.CircuitPolicy{Threshold: 2, Cooldown: time.Minute, MaxCooldown: 4 * time.Minute}
	want := hookd.Circuit{State: hookd.CircuitClosed}
	next := 0
	step := func(name string, oks ...bool) {
		t.Helper()
		var comps []hookd.Completion
		for _, ok := range oks {
			at := t0.Add(time.Duration(next+1) * time.Minute)
			o, code := hookd.OutcomeRetry, 500
			if ok {
				o, code = hookd.OutcomeSucceeded, 200
			}
			a := attempt(cs[next].Delivery.ID, 1, at, code)
			comps = append(comps, hookd.Completion{Owner: "n1", Outcome: o, Attempt: a, NextAttemptAt: at.Add(time.Hour)})
			want = policy.Next(want, ok, a.StartedAt.Add(a.Latency))
			next++
		}
		f.complete(policy, comps...)
		got := f.getEndpoint(ep.ID).Circuit
		if got.State != want.State || got.ConsecutiveFailures != want.ConsecutiveFailures || got.Opens != want.Opens ||
			!got.OpenUntil.Equal(ut(want.OpenUntil)) {
			t.Errorf("%s: got circuit %+v, want %+v", name, got, want)
		}
	}
	step("one failure", false)
	step("threshold reached", false)
	if want.State != hookd.CircuitOpen {
		t.Fatalf("test setup: want an open circuit, got %+v", want)
	}
	step("probe fails, longer cool-down", false)
	step("success closes", true)
	step("in order: fail then succeed", false, true)
	step("in order: succeed then fail", true, false)
}
