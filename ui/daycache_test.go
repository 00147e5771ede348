package ui

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// recordAttempt records one attempt to ep started at `at` through the
// store's write path.
func recordAttempt(t *testing.T, store hookd.Store, ep *hookd.Endpoint, at time.Time, code int) {
	t.Helper()
	ctx := context.Background()
	ev := hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, at), TenantID: ep.TenantID, Type: "x",
		Payload: []byte(`{}`), CreatedAt: at}, OnlyEndpointID: ep.ID}
	if _, err := store.IngestEvents(ctx, []hookd.NewEvent{ev}); err != nil {
		t.Fatal(err)
	}
	cl, err := store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "t", Now: at.Add(time.Hour * 1000), Lease: time.Minute, Limit: 1})
	if err != nil || len(cl) != 1 {
		t.Fatalf("claim: %v, %d claims", err, len(cl))
	}
	c := hookd.Completion{Owner: "t", Outcome: hookd.OutcomeSucceeded, Attempt: hookd.Attempt{DeliveryID: cl[0].Delivery.ID, Number: 1,
		StartedAt: at, StatusCode: code, Latency: time.Duration(code/10) * time.Millisecond}}
	if code >= 300 {
		c.Outcome = hookd.OutcomeDead
	}
	if err := store.CompleteAttempts(ctx, []hookd.Completion{c}, hookd.CircuitPolicy{}); err != nil {
		t.Fatal(err)
	}
}

// TestOverviewDayCache: the overview that keeps settled hours between
// refreshes shows exactly what one that reads everything shows, as the
// window moves and attempts arrive; an attempt recorded late into a kept
// hour shows after dayCacheRefresh at the latest.
func TestOverviewDayCache(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		store := open(t)
		ctx := context.Background()
		now := time.Date(2026, 12, 1, 10, 17, 30, 0, time.UTC)
		clock := func() time.Time { return now }
		var eps []*hookd.Endpoint
		for _, tenant := range []string{"acme", "globex"} {
			e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, now), TenantID: tenant, URL: "https://example.com/" + tenant,
				Secret: hookd.NewSecret(), CreatedAt: now.Add(-48 * time.Hour), UpdatedAt: now.Add(-48 * time.Hour)}
			if err := store.CreateEndpoint(ctx, e); err != nil {
				t.Fatal(err)
			}
			eps = append(eps, e)
		}
		for _, d := range []time.Duration{-24 * time.Hour, -23*time.Hour - 50*time.Minute, -20 * time.Hour, -5 * time.Hour, -90 * time.Minute, -10 * time.Minute} {
			recordAttempt(t, store, eps[0], now.Add(d), 200)
			recordAttempt(t, store, eps[1], now.Add(d+time.Minute), 500)
		}
		kept := storeStats{s: store, now: clock, day: &dayCache{}}
		same := func(what string, tenant *string) {
			t.Helper()
			got, _, err := kept.Overview(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := storeStats{s: store, now: clock, day: &dayCache{}}.Overview(ctx, tenant)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				for id := range want {
					t.Errorf("%s: endpoint %s:\n got %+v\nwant %+v", what, id, got[id], want[id])
				}
			}
			if h := got[eps[0].ID]; tenant == nil && (h == nil || h.Day.Attempts == 0) {
				t.Errorf("%s: no attempts for %s", what, eps[0].ID)
			}
		}
		same("first read", nil)
		if kept.day.upTo.IsZero() || len(kept.day.series) != 2 {
			t.Fatalf("nothing kept after the first read: %+v", kept.day)
		}
		same("tenant acme", ptr("acme"))
		recordAttempt(t, store, eps[0], now.Add(-time.Minute), 200) // the current hour: read every time
		same("a new attempt", nil)
		now = now.Add(2*time.Hour + 7*time.Minute) // the window moves: hours leave it, more settle
		same("two hours later", nil)
		same("tenant globex", ptr("globex"))

		// An attempt recorded late into a kept hour: shown after the refresh.
		late := now.Add(-6 * time.Hour)
		recordAttempt(t, store, eps[1], late, 200)
		fresh, _, _ := storeStats{s: store, now: clock, day: &dayCache{}}.Overview(ctx, nil)
		before, _, _ := kept.Overview(ctx, nil)
		if before[eps[1].ID].Day.Attempts != fresh[eps[1].ID].Day.Attempts-1 {
			t.Errorf("the kept hours were read again: %d day attempts, a fresh read has %d",
				before[eps[1].ID].Day.Attempts, fresh[eps[1].ID].Day.Attempts)
		}
		now = now.Add(dayCacheRefresh)
		after, _, _ := kept.Overview(ctx, nil)
		if after[eps[1].ID].Day.Attempts != before[eps[1].ID].Day.Attempts+1 {
			t.Errorf("late attempt: day attempts %d after the refresh, %d before; want one more",
				after[eps[1].ID].Day.Attempts, before[eps[1].ID].Day.Attempts)
		}
		same("after the refresh", nil)
	})
}

func ptr[T any](v T) *T { return &v }
