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

// testReplayRecovered: ReplayRecovered requeues what died before the
// success and stores its notice in the same transaction: when the notice
// cannot be stored nothing is replayed, when nothing is replayed no notice
// is asked for.
func testReplayRecovered(t *testing.T, open Opener) {
	f := setup(t, open)
	f.opsEndpoint()
	healed := f.endpoint("t")
	res := f.ingest(event("t", "x", t0), event("t", "x", t0))
	dead := f.kill(healed.ID, t0.Add(time.Minute))
	f.succeed(healed.ID, t0.Add(2*time.Minute))
	rs, err := f.s.RecoveredEndpoints(f.ctx)
	if err != nil || len(rs) != 1 {
		t.Fatalf("recovered: got %+v, %v; want one", rs, err)
	}

	// A notice that cannot be stored (its event id exists) rolls the
	// replay back.
	_, err = f.s.ReplayRecovered(f.ctx, rs[0], t0.Add(3*time.Minute), func(int) *hookd.NewEvent {
		ne := notice(hookd.EventTypeEndpointRecovered, t0.Add(3*time.Minute))
		ne.ID = res[0].Event.ID
		return ne
	})
	if err == nil {
		t.Fatal("ReplayRecovered with a notice that cannot be stored: got nil error")
	}
	if d := f.delivery(dead.ID); d.Status != hookd.StatusDead {
		t.Errorf("after the failed notice: delivery %s is %s, want still dead (replay rolled back)", dead.ID, d.Status)
	}
	if types := f.opsTypes(); len(types) != 0 {
		t.Errorf("after the failed notice: ops deliveries %v, want none", types)
	}

	var asked []int
	n, err := f.s.ReplayRecovered(f.ctx, rs[0], t0.Add(3*time.Minute), func(replayed int) *hookd.NewEvent {
		asked = append(asked, replayed)
		return notice(hookd.EventTypeEndpointRecovered, t0.Add(3*time.Minute))
	})
	if err != nil || n != 1 || len(asked) != 1 || asked[0] != 1 {
		t.Fatalf("ReplayRecovered: got %d, %v, notice asked with %v; want 1, nil, [1]", n, err, asked)
	}
	if d := f.delivery(dead.ID); d.Status != hookd.StatusPending {
		t.Errorf("replayed delivery: got %s, want pending", d.Status)
	}
	if types := f.opsTypes(); len(types) != 1 || types[0] != hookd.EventTypeEndpointRecovered {
		t.Errorf("ops deliveries: got %v, want one endpoint.recovered", types)
	}

	// Nothing left: no replay, no notice.
	asked = nil
	n, err = f.s.ReplayRecovered(f.ctx, rs[0], t0.Add(4*time.Minute), func(replayed int) *hookd.NewEvent {
		asked = append(asked, replayed)
		return notice(hookd.EventTypeEndpointRecovered, t0.Add(4*time.Minute))
	})
	if err != nil || n != 0 || len(asked) != 0 {
		t.Errorf("second ReplayRecovered: got %d, %v, notice asked %v; want 0, nil, never", n, err, asked)
	}
	if types := f.opsTypes(); len(types) != 1 {
		t.Errorf("ops deliveries after the empty replay: got %v, want still one", types)
	}
}
