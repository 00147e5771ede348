package storetest

import (
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// kill claims the only due delivery of endpointID at now and completes it
// dead with attempt 1 ending at now.
func (f *fixture) kill(endpointID string, now time.Time) *hookd.Delivery {
	f.t.Helper()
	var others []string
	eps, _, err := f.s.ListEndpoints(f.ctx, nil, hookd.Page{Limit: hookd.MaxPageLimit})
	if err != nil {
		f.t.Fatalf("ListEndpoints: %v", err)
	}
	for _, e := range eps {
		if e.ID != endpointID {
			others = append(others, e.ID)
		}
	}
	cs := f.claim(hookd.ClaimRequest{Owner: "killer", Now: now, Limit: 1, ExcludeEndpoints: others})
	if len(cs) != 1 {
		f.t.Fatalf("kill: got %d claims, want 1", len(cs))
	}
	a := hookd.Attempt{DeliveryID: cs[0].Delivery.ID, Number: 1, StartedAt: now, StatusCode: 500, Error: "boom"}
	f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "killer", Outcome: hookd.OutcomeDead, Attempt: a})
	return f.delivery(cs[0].Delivery.ID)
}

func testRetryDelivery(t *testing.T, open Opener) {
	f := setup(t, open)
	ep := f.endpoint("t")
	f.ingest(event("t", "x", t0), event("t", "x", t0))
	dead := f.kill(ep.ID, t0)
	if dead.Status != hookd.StatusDead {
		t.Fatalf("got status %s, want dead", dead.Status)
	}
	now := t0.Add(time.Hour)
	got, err := f.s.RetryDelivery(f.ctx, dead.ID, now)
	if err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	if got.ID != dead.ID || got.Status != hookd.StatusPending || got.Attempts != 1 || got.AttemptBase != 1 ||
		got.LeaseOwner != "" || !got.LeaseExpiresAt.IsZero() {
		t.Errorf("got %+v, want pending with Attempts 1, AttemptBase 1, no lease", got)
	}
	wantTime(t, "NextAttemptAt", got.NextAttemptAt, now)
	if stored := f.delivery(dead.ID); stored.Status != got.Status || stored.AttemptBase != 1 || !stored.NextAttemptAt.Equal(got.NextAttemptAt) {
		t.Errorf("stored: got %+v, want what RetryDelivery returned", stored)
	}

	// A leased pending delivery: the lease is cleared.
	cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: now, Limit: 10})
	if len(cs) != 2 {
		t.Fatalf("got %d claims, want 2", len(cs))
	}
	got, err = f.s.RetryDelivery(f.ctx, cs[0].Delivery.ID, now.Add(time.Second))
	if err != nil {
		t.Fatalf("RetryDelivery: %v", err)
	}
	if got.LeaseOwner != "" || !got.LeaseExpiresAt.IsZero() || got.Status != hookd.StatusPending {
		t.Errorf("got %+v, want pending without lease", got)
	}
	if again := f.claim(hookd.ClaimRequest{Owner: "n2", Now: now.Add(time.Second), Limit: 10}); len(again) != 1 || again[0].Delivery.ID != got.ID {
		t.Errorf("got claims %v, want the retried %s", claimIDs(again), got.ID)
	}

	_, err = f.s.RetryDelivery(f.ctx, hookd.NewID(hookd.PrefixDelivery, t0), now)
	wantCode(t, err, hookd.ENOTFOUND)
}

func testReplayDead(t *testing.T, open Opener) {
	cases := []struct {
		name string
		// filter builds the filter from the endpoints and the death times u[0..3].
		filter func(ep1, ep2 string, u []time.Time) hookd.ReplayFilter
		want   []int // indexes of the dead deliveries replayed
	}{
		{"all", func(_, _ string, _ []time.Time) hookd.ReplayFilter { return hookd.ReplayFilter{} }, []int{0, 1, 2, 3}},
		{"endpoint", func(ep1, _ string, _ []time.Time) hookd.ReplayFilter { return hookd.ReplayFilter{EndpointID: ep1} }, []int{0, 1}},
		{"event type", func(_, _ string, _ []time.Time) hookd.ReplayFilter { return hookd.ReplayFilter{EventType: "a.x"} }, []int{0, 2}},
		{"endpoint and type", func(_, ep2 string, _ []time.Time) hookd.ReplayFilter {
			return hookd.ReplayFilter{EndpointID: ep2, EventType: "b.y"}
		}, []int{3}},
		{"since inclusive", func(_, _ string, u []time.Time) hookd.ReplayFilter { return hookd.ReplayFilter{Since: u[1]} }, []int{1, 2, 3}},
		{"until exclusive", func(_, _ string, u []time.Time) hookd.ReplayFilter { return hookd.ReplayFilter{Until: u[1]} }, []int{0}},
		{"since and until", func(_, _ string, u []time.Time) hookd.ReplayFilter {
			return hookd.ReplayFilter{Since: u[1], Until: u[3]}
		}, []int{1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open)
			ep1 := f.endpoint("t")
			ep2 := f.endpoint("t")
			f.ingest(event("t", "a.x", t0))
			f.ingest(event("t", "b.y", t0.Add(time.Second)))
			// dead: [ep1 a.x, ep1 b.y, ep2 a.x, ep2 b.y], dying in that order.
			var dead []*hookd.Delivery
			var u []time.Time
			for i, ep := range []string{ep1.ID, ep1.ID, ep2.ID, ep2.ID} {
				d := f.kill(ep, t0.Add(time.Duration(i+1)*time.Minute))
				dead = append(dead, d)
				u = append(u, d.UpdatedAt)
				if i > 0 && !u[i].After(u[i-1]) {
					t.Fatalf("precondition: UpdatedAt of deliveries that died later must grow, got %v", u)
				}
			}
			// One more pending delivery that replay must leave alone.
			f.ingest(event("t", "a.x", t0.Add(time.Hour)))

			now := t0.Add(2 * time.Hour)
			n, err := f.s.ReplayDead(f.ctx, c.filter(ep1.ID, ep2.ID, u), now)
			if err != nil {
				t.Fatalf("ReplayDead: %v", err)
			}
			if n != len(c.want) {
				t.Errorf("got %d replayed, want %d", n, len(c.want))
			}
			replayed := map[int]bool{}
			for _, i := range c.want {
				replayed[i] = true
			}
			for i, d := range dead {
				got := f.delivery(d.ID)
				if !replayed[i] {
					if got.Status != hookd.StatusDead {
						t.Errorf("delivery %d: got status %s, want still dead", i, got.Status)
					}
					continue
				}
				if got.Status != hookd.StatusPending || got.AttemptBase != got.Attempts || got.Attempts != 1 || got.LeaseOwner != "" {
					t.Errorf("delivery %d: got %+v, want pending with AttemptBase = Attempts = 1", i, got)
				}
				wantTime(t, "NextAttemptAt", got.NextAttemptAt, now)
			}
			if got := len(f.deliveries(hookd.DeliveryFilter{Status: hookd.StatusPending})); got != len(c.want)+2 {
				t.Errorf("got %d pending deliveries, want %d", got, len(c.want)+2)
			}
		})
	}
}

func testListAttempts(t *testing.T, open Opener) {
	f := setup(t, open)
	f.endpoint("t")
	f.ingest(event("t", "x", t0))
	var id string
	for n := 1; n <= 3; n++ {
		at := t0.Add(time.Duration(n) * time.Minute)
		cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: at, Limit: 1})
		if len(cs) != 1 {
			t.Fatalf("attempt %d: got %d claims, want 1", n, len(cs))
		}
		id = cs[0].Delivery.ID
		f.complete(hookd.CircuitPolicy{}, hookd.Completion{Owner: "n1", Outcome: hookd.OutcomeRetry,
			NextAttemptAt: at.Add(time.Minute), Attempt: attempt(id, n, at, 500)})
	}
	as, next, err := f.s.ListAttempts(f.ctx, id, hookd.Page{Limit: 2})
	if err != nil {
		t.Fatalf("ListAttempts: %v", err)
	}
	if len(as) != 2 || as[0].Number != 1 || as[1].Number != 2 || next != "2" {
		t.Fatalf("first page: got %d attempts and cursor %q, want 1, 2 and \"2\"", len(as), next)
	}
	wantTime(t, "StartedAt of attempt 2", as[1].StartedAt, t0.Add(2*time.Minute))
	as, next, err = f.s.ListAttempts(f.ctx, id, hookd.Page{Limit: 2, Cursor: next})
	if err != nil {
		t.Fatalf("ListAttempts: %v", err)
	}
	if len(as) != 1 || as[0].Number != 3 || next != "" {
		t.Errorf("second page: got %d attempts and cursor %q, want attempt 3 and no cursor", len(as), next)
	}

	// A delivery without attempts lists nothing; a missing one is ENOTFOUND.
	f.ingest(event("t", "x", t0))
	fresh := f.deliveries(hookd.DeliveryFilter{Status: hookd.StatusPending})
	for _, d := range fresh {
		if d.ID == id {
			continue
		}
		as, next, err := f.s.ListAttempts(f.ctx, d.ID, hookd.Page{})
		if err != nil || len(as) != 0 || next != "" {
			t.Errorf("no attempts: got %v, %q, %v; want none", as, next, err)
		}
	}
	_, _, err = f.s.ListAttempts(f.ctx, hookd.NewID(hookd.PrefixDelivery, t0), hookd.Page{})
	wantCode(t, err, hookd.ENOTFOUND)
}
