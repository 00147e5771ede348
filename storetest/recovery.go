package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// succeed claims one due delivery of endpointID at now and records a success.
func (f *fixture) succeed(endpointID string, now time.Time) *hookd.Delivery {
	f.t.Helper()
	cs := f.claim(hookd.ClaimRequest{Owner: "ok", Now: now, Limit: 1, ExcludeEndpoints: f.othersThan(endpointID)})
	if len(cs) != 1 {
		f.t.Fatalf("succeed: got %d claims, want 1", len(cs))
	}
	a := hookd.Attempt{DeliveryID: cs[0].Delivery.ID, Number: 1, StartedAt: now, StatusCode: 200, Latency: time.Millisecond}
	f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "ok", Outcome: hookd.OutcomeSucceeded, Attempt: a})
	return f.delivery(cs[0].Delivery.ID)
}

func (f *fixture) othersThan(endpointID string) []string {
	f.t.Helper()
	eps, _, err := f.s.ListEndpoints(f.ctx, nil, hookd.Page{Limit: hookd.MaxPageLimit})
	if err != nil {
		f.t.Fatalf("ListEndpoints: %v", err)
	}
	var others []string
	for _, e := range eps {
		if e.ID != endpointID {
			others = append(others, e.ID)
		}
	}
	return others
}

// testRecoveredEndpoints: an endpoint with a success after a dead delivery
// died is recovered (with that success's time); one whose deaths all came
// after its last success, a disabled one and one with an open circuit are
// not; after the replay of what died before the success, it is no longer.
func testRecoveredEndpoints(t *testing.T, open Opener) {
	f := setup(t, open)
	healed := f.endpoint("t")
	stillBroken := f.endpoint("t")
	disabled := f.endpoint("t")
	f.ingest(event("t", "x", t0), event("t", "x", t0), event("t", "x", t0))

	for _, ep := range []*hookd.Endpoint{healed, stillBroken, disabled} {
		f.kill(ep.ID, t0.Add(time.Minute))
	}
	if rs, err := f.s.RecoveredEndpoints(f.ctx); err != nil || len(rs) != 0 {
		t.Fatalf("before any success: got %v, %v; want none", rs, err)
	}
	ok := f.succeed(healed.ID, t0.Add(2*time.Minute)) // success after the death
	f.succeed(disabled.ID, t0.Add(2*time.Minute))     // recovered, but then disabled
	f.succeed(stillBroken.ID, t0.Add(30*time.Second)) // success before ...
	f.kill(stillBroken.ID, t0.Add(3*time.Minute))     // ... its (new) death
	if _, err := f.s.UpdateEndpointFields(f.ctx, disabled.ID, hookd.EndpointUpdate{Disabled: hookd.Ptr(true), DisabledReason: "test"}); err != nil {
		t.Fatal(err)
	}

	rs, err := f.s.RecoveredEndpoints(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].EndpointID != healed.ID {
		t.Fatalf("recovered: got %+v, want only %s", rs, healed.ID)
	}
	if want := ut(ok.UpdatedAt); !rs[0].SucceededAt.Equal(want) {
		t.Errorf("SucceededAt: got %v, want the success's end %v", rs[0].SucceededAt, want)
	}
	n, err := f.s.ReplayDead(f.ctx, hookd.ReplayFilter{EndpointID: healed.ID, Until: rs[0].SucceededAt}, t0.Add(4*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("replay: got %d, %v; want 1", n, err)
	}
	if rs, err := f.s.RecoveredEndpoints(f.ctx); err != nil || len(rs) != 0 {
		t.Errorf("after the replay: got %+v, %v; want none", rs, err)
	}
}
