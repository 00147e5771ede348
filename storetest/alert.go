package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// opsEndpoint creates the system tenant's endpoint (as the server does at
// start from --ops-url).
func (f *fixture) opsEndpoint() *hookd.Endpoint {
	return f.endpoint(hookd.SystemTenant, func(e *hookd.Endpoint) { e.ID = hookd.OpsEndpointID })
}

// notice is an operational event of type typ at.
func notice(typ string, at time.Time) *hookd.NewEvent {
	ne := event(hookd.SystemTenant, typ, at)
	return &ne
}

// opsDeliveries returns the deliveries to the ops endpoint with their events' types.
func (f *fixture) opsTypes() []string {
	f.t.Helper()
	var types []string
	for _, d := range f.deliveries(hookd.DeliveryFilter{EndpointID: hookd.OpsEndpointID}) {
		ev, err := f.s.GetEvent(f.ctx, d.EventID)
		if err != nil {
			f.t.Fatalf("GetEvent: %v", err)
		}
		if ev.TenantID != hookd.SystemTenant {
			f.t.Errorf("ops delivery of event %s of tenant %q", ev.ID, ev.TenantID)
		}
		types = append(types, ev.Type)
	}
	return types
}

func testAlertState(t *testing.T, open Opener) {
	f := setup(t, open)
	f.opsEndpoint()
	user := f.endpoint("t") // a user endpoint never receives operational events
	a := hookd.Alert{Key: "ep_1", Scope: hookd.AlertScopeEndpoint, EndpointID: "ep_1", TenantID: "t",
		Since: t0, SuccessRate: 0.5, Attempts: 40, Failed: 20, UpdatedAt: t0}

	fired, err := f.s.FireAlert(f.ctx, a, notice("alert.firing", t0))
	if err != nil || !fired {
		t.Fatalf("first FireAlert: got %v, %v; want fired", fired, err)
	}
	// The same episode again (a restarted node, a second node): no new
	// notice, figures refreshed, Since kept.
	again := a
	again.Since, again.SuccessRate, again.Attempts, again.Failed, again.UpdatedAt = t0.Add(time.Minute), 0.25, 80, 60, t0.Add(time.Minute)
	fired, err = f.s.FireAlert(f.ctx, again, notice("alert.firing", t0.Add(time.Minute)))
	if err != nil || fired {
		t.Fatalf("second FireAlert: got %v, %v; want not fired", fired, err)
	}
	overall := hookd.Alert{Key: hookd.AlertKeyOverall, Scope: hookd.AlertScopeOverall, Since: t0.Add(time.Second),
		SuccessRate: 0.9, Attempts: 100, Failed: 10, UpdatedAt: t0.Add(time.Second)}
	if fired, err := f.s.FireAlert(f.ctx, overall, nil); err != nil || !fired {
		t.Fatalf("overall FireAlert: got %v, %v; want fired", fired, err)
	}

	list, err := f.s.ListAlerts(f.ctx)
	if err != nil {
		t.Fatalf("ListAlerts: %v", err)
	}
	want := []hookd.Alert{
		{Key: "ep_1", Scope: "endpoint", EndpointID: "ep_1", TenantID: "t", Since: ut(t0), SuccessRate: 0.25,
			Attempts: 80, Failed: 60, UpdatedAt: ut(t0.Add(time.Minute))},
		{Key: "overall", Scope: "overall", Since: ut(t0.Add(time.Second)), SuccessRate: 0.9, Attempts: 100,
			Failed: 10, UpdatedAt: ut(t0.Add(time.Second))},
	}
	if len(list) != len(want) {
		t.Fatalf("ListAlerts: got %+v, want %+v", list, want)
	}
	for i := range want {
		if list[i] != want[i] {
			t.Errorf("alert %d: got %+v, want %+v", i, list[i], want[i])
		}
	}

	// Resolving needs the episode's Since: a stale resolve of another
	// episode does nothing.
	if ok, err := f.s.ResolveAlert(f.ctx, "ep_1", t0.Add(time.Minute), notice("alert.resolved", t0)); err != nil || ok {
		t.Fatalf("ResolveAlert with the wrong since: got %v, %v; want false", ok, err)
	}
	if ok, err := f.s.ResolveAlert(f.ctx, "ep_1", t0, notice("alert.resolved", t0.Add(2*time.Minute))); err != nil || !ok {
		t.Fatalf("ResolveAlert: got %v, %v; want true", ok, err)
	}
	if ok, err := f.s.ResolveAlert(f.ctx, "ep_1", t0, notice("alert.resolved", t0.Add(3*time.Minute))); err != nil || ok {
		t.Fatalf("second ResolveAlert: got %v, %v; want false", ok, err)
	}
	// A new episode of the same key fires again.
	if fired, err := f.s.FireAlert(f.ctx, again, notice("alert.firing", t0.Add(4*time.Minute))); err != nil || !fired {
		t.Fatalf("FireAlert of a new episode: got %v, %v; want fired", fired, err)
	}
	list, _ = f.s.ListAlerts(f.ctx)
	if len(list) != 2 || list[1].Key != "ep_1" || !list[1].Since.Equal(ut(again.Since)) {
		t.Errorf("after the new episode: got %+v, want overall then ep_1 since %v", list, again.Since)
	}

	got := f.opsTypes()
	wantTypes := map[string]int{"alert.firing": 2, "alert.resolved": 1}
	counts := map[string]int{}
	for _, typ := range got {
		counts[typ]++
	}
	if len(counts) != len(wantTypes) || counts["alert.firing"] != 2 || counts["alert.resolved"] != 1 {
		t.Errorf("ops deliveries: got %v, want %v", counts, wantTypes)
	}
	if ds := f.deliveries(hookd.DeliveryFilter{EndpointID: user.ID}); len(ds) != 0 {
		t.Errorf("user endpoint got %d deliveries of operational events, want 0", len(ds))
	}
}

// testCompleteNotice: a completion's Notice is ingested with it exactly
// when the completion changes its delivery.
func testCompleteNotice(t *testing.T, open Opener) {
	f := setup(t, open)
	f.opsEndpoint()
	ep := f.endpoint("t")
	f.ingest(event("t", "x", t0), event("t", "x", t0), event("t", "x", t0))
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: t0, Limit: 3, ExcludeEndpoints: []string{hookd.OpsEndpointID}})
	if len(cs) != 3 {
		t.Fatalf("got %d claims, want 3", len(cs))
	}
	// cs[2]'s lease is lost: released and taken by another node.
	lost := cs[2].Delivery.ID
	if err := f.s.ReleaseDeliveries(f.ctx, "n1", []string{lost}); err != nil {
		t.Fatalf("ReleaseDeliveries: %v", err)
	}
	if stolen := f.claim(hookd.ClaimRequest{Owner: "n2", Now: t0, Limit: 1,
		ExcludeEndpoints: []string{hookd.OpsEndpointID}}); len(stolen) != 1 || stolen[0].Delivery.ID != lost {
		t.Fatalf("got stolen claims %v, want %s", stolen, lost)
	}
	var comps []hookd.Completion
	for i, c := range cs {
		comp := hookd.Completion{Owner: "n1", Attempt: attempt(c.Delivery.ID, 1, t0, 500), Outcome: hookd.OutcomeDead,
			Notice: notice("delivery.dead", t0)}
		if i == 0 {
			comp.Outcome, comp.Attempt.StatusCode, comp.DisableReason = hookd.OutcomeGone, 410, "gone"
			comp.Notice = notice("endpoint.disabled", t0)
		}
		comps = append(comps, comp)
	}
	f.complete(hookd.CircuitPolicy{}, comps...)
	got := f.opsTypes()
	if len(got) != 2 {
		t.Fatalf("ops deliveries: got %v, want 2 (one per completion that kept its lease)", got)
	}
	if d := f.delivery(lost); d.Status != hookd.StatusPending || d.LeaseOwner != "n2" {
		t.Errorf("lost delivery: got %+v, want pending, leased to n2", d)
	}
	if e := f.getEndpoint(ep.ID); !e.Disabled {
		t.Errorf("endpoint not disabled by the 410 completion")
	}
	// The same completions written again (a retried write whose first
	// try committed) add nothing: the leases are gone.
	f.complete(hookd.CircuitPolicy{}, comps...)
	if again := f.opsTypes(); len(again) != 2 {
		t.Errorf("after a repeated write: got %d ops deliveries, want 2", len(again))
	}

	// CompleteAndClaim ingests the notice in its transaction too, and the
	// claim half sees the new ops delivery.
	f.endpoint("t2")
	f.ingest(event("t2", "x", t0))
	c2 := f.claim(hookd.ClaimRequest{Owner: "n3", Now: t0, Limit: 1, ExcludeEndpoints: []string{hookd.OpsEndpointID}})
	if len(c2) != 1 {
		t.Fatalf("got %d claims of t2, want 1", len(c2))
	}
	claims, err := f.s.CompleteAndClaim(f.ctx, []hookd.Completion{{Owner: "n3", Attempt: attempt(c2[0].Delivery.ID, 1, t0, 500),
		Outcome: hookd.OutcomeDead, Notice: notice("delivery.dead", t0)}}, hookd.CircuitPolicy{},
		hookd.ClaimRequest{Owner: "n3", Now: t0.Add(time.Second), Lease: time.Hour, Limit: 10})
	if err != nil {
		t.Fatalf("CompleteAndClaim: %v", err)
	}
	opsClaims := 0
	for _, c := range claims {
		if c.Endpoint.ID == hookd.OpsEndpointID {
			opsClaims++
			if c.Event.TenantID != hookd.SystemTenant || c.Event.Type == "" {
				t.Errorf("ops claim of event %+v", c.Event)
			}
		}
	}
	if opsClaims != 3 {
		t.Errorf("CompleteAndClaim claimed %d ops deliveries, want 3 (two earlier notices and its own)", opsClaims)
	}
}
