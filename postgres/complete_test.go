package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestCompleteAttempts(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	policy := hookd.CircuitPolicy{Threshold: 2, Cooldown: time.Minute, MaxCooldown: time.Hour}
	tests := []struct {
		name       string
		outcome    hookd.Outcome
		owner      string // completion owner; "n1" holds the lease
		wantStatus hookd.DeliveryStatus
		wantNext   time.Time
		wantDis    bool
		wantState  hookd.CircuitState
	}{
		{"succeeded", hookd.OutcomeSucceeded, "n1", hookd.StatusSucceeded, t0, false, hookd.CircuitClosed},
		{"retry", hookd.OutcomeRetry, "n1", hookd.StatusPending, t0.Add(time.Hour), false, hookd.CircuitClosed},
		{"dead", hookd.OutcomeDead, "n1", hookd.StatusDead, t0, false, hookd.CircuitClosed},
		{"gone", hookd.OutcomeGone, "n1", hookd.StatusDead, t0, true, hookd.CircuitClosed},
		{"lease lost", hookd.OutcomeSucceeded, "n2", hookd.StatusPending, t0, false, hookd.CircuitClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEndpoint(t, s, nil)
			seed(t, s, e, 1, t0)
			cs := claim(t, s, hookd.ClaimRequest{Owner: "n1", Now: t0, Limit: 10, ExcludeEndpoints: nil})
			var d *hookd.Delivery
			for _, c := range cs {
				if c.Endpoint.ID == e.ID {
					d = c.Delivery
				}
			}
			if d == nil {
				t.Fatalf("no claim for the endpoint")
			}
			a := hookd.Attempt{DeliveryID: d.ID, Number: 1, StartedAt: t0, StatusCode: 500,
				Latency: 1500 * time.Microsecond, ResponseBody: "bad\xff", Error: "status 500"}
			err := s.CompleteAttempts(ctx, []hookd.Completion{{Owner: tt.owner, Attempt: a, Outcome: tt.outcome,
				NextAttemptAt: t0.Add(time.Hour), DisableReason: "410 Gone"}}, policy)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.GetDelivery(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || !got.NextAttemptAt.Equal(tt.wantNext.Truncate(time.Microsecond)) {
				t.Errorf("got status %s next %v, want %s %v", got.Status, got.NextAttemptAt, tt.wantStatus, tt.wantNext)
			}
			leased := tt.owner != "n1"
			if (got.LeaseOwner != "") != leased {
				t.Errorf("got lease owner %q, want leased=%v", got.LeaseOwner, leased)
			}
			if !leased && (got.Attempts != 1 || got.LastStatusCode != 500 || got.LastError != "status 500") {
				t.Errorf("got %+v, want attempts 1, status 500", got)
			}
			as, _, err := s.ListAttempts(ctx, d.ID, hookd.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(as) != 1 || as[0].ResponseBody != a.ResponseBody || as[0].Latency != a.Latency {
				t.Errorf("got attempts %+v, want the one recorded", as)
			}
			ep, err := s.GetEndpoint(ctx, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if ep.Disabled != tt.wantDis || (tt.wantDis && ep.DisabledReason != "410 Gone") {
				t.Errorf("got disabled %v %q, want %v", ep.Disabled, ep.DisabledReason, tt.wantDis)
			}
			wantFailures := 1
			if tt.outcome == hookd.OutcomeSucceeded {
				wantFailures = 0
			}
			if ep.Circuit.State != tt.wantState || ep.Circuit.ConsecutiveFailures != wantFailures {
				t.Errorf("got circuit %+v, want %s with %d failures", ep.Circuit, tt.wantState, wantFailures)
			}
			if err := s.ReleaseDeliveries(ctx, "n1", []string{d.ID}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Circuits advance in order within one call, and a deleted delivery's
// attempt completes into nothing.
func TestCompleteCircuitOrder(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	e := newEndpoint(t, s, nil)
	seed(t, s, e, 3, t0)
	cs := claim(t, s, hookd.ClaimRequest{Owner: "n", Now: t0.Add(time.Second), Limit: 10})
	var comps []hookd.Completion
	for i, c := range cs {
		comps = append(comps, hookd.Completion{Owner: "n", Outcome: hookd.OutcomeRetry, NextAttemptAt: t0.Add(time.Hour),
			Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: t0.Add(time.Duration(i) * time.Second)}})
	}
	comps = append(comps, hookd.Completion{Owner: "n", Outcome: hookd.OutcomeRetry,
		Attempt: hookd.Attempt{DeliveryID: "dlv_gone", Number: 1, StartedAt: t0}})
	policy := hookd.CircuitPolicy{Threshold: 2, Cooldown: time.Minute, MaxCooldown: time.Hour}
	if err := s.CompleteAttempts(ctx, comps, policy); err != nil {
		t.Fatal(err)
	}
	ep, err := s.GetEndpoint(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Failure 2 opens for 1 min at t0+1s; failure 3 (a failed probe) reopens for 2 min at t0+2s.
	want := hookd.Circuit{State: hookd.CircuitOpen, ConsecutiveFailures: 3, OpenUntil: t0.Add(2*time.Second + 2*time.Minute).Truncate(time.Microsecond), Opens: 2}
	if ep.Circuit != want {
		t.Fatalf("got circuit %+v, want %+v", ep.Circuit, want)
	}
}

// Error texts quoting a remote server may hold NUL or invalid UTF-8, which
// text columns refuse; they are stored with U+FFFD instead of failing the
// whole batch.
func TestCompleteOddErrorText(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ctx := context.Background()
	e := newEndpoint(t, s, nil)
	seed(t, s, e, 1, t0)
	cs := claim(t, s, hookd.ClaimRequest{Owner: "n", Now: t0, Limit: 1})
	err := s.CompleteAttempts(ctx, []hookd.Completion{{Owner: "n", Outcome: hookd.OutcomeDead,
		Attempt: hookd.Attempt{DeliveryID: cs[0].Delivery.ID, Number: 1, StartedAt: t0, ResponseBody: "a\x00b", Error: "x\x00y\xff"}}},
		hookd.DefaultCircuitPolicy)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.GetDelivery(ctx, cs[0].Delivery.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "x\uFFFDy\uFFFD"; d.LastError != want {
		t.Fatalf("got last error %q, want %q", d.LastError, want)
	}
	as, _, err := s.ListAttempts(ctx, d.ID, hookd.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if as[0].ResponseBody != "a\x00b" {
		t.Fatalf("got body %q, want the bytes as sent", as[0].ResponseBody)
	}
}
