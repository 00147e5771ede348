package scheduler_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ops"
	"github.com/hookd/hookd/scheduler"
)

// windowStore is a real store whose windowTotals answers the totals the
// test sets (the rollups are tested in the conformance suite).
type windowStore struct {
	hookd.Store
	mu     sync.Mutex
	totals []scheduler.EndpointTotals
	asked  [2]time.Time
}

func (w *windowStore) set(ts ...scheduler.EndpointTotals) {
	w.mu.Lock()
	w.totals = ts
	w.mu.Unlock()
}

func (w *windowStore) windowTotals(_ context.Context, since, until time.Time) ([]scheduler.EndpointTotals, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked = [2]time.Time{since, until}
	return append([]scheduler.EndpointTotals(nil), w.totals...), nil
}

func totals(ep, tenant string, attempts, succeeded int64) scheduler.EndpointTotals {
	return scheduler.EndpointTotals{EndpointID: ep, TenantID: tenant, Attempts: attempts, Succeeded: succeeded}
}

// opsEvents returns the stored operational events (type and data), oldest first.
func opsEvents(t *testing.T, s hookd.Store) []opsEvent {
	t.Helper()
	tenant := hookd.SystemTenant
	evs, _, err := s.ListEvents(context.Background(), hookd.EventFilter{TenantID: &tenant, Page: hookd.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	var out []opsEvent
	for i := len(evs) - 1; i >= 0; i-- {
		var data map[string]any
		if err := json.Unmarshal(evs[i].Payload, &data); err != nil {
			t.Fatal(err)
		}
		out = append(out, opsEvent{evs[i].Type, data})
	}
	return out
}

type opsEvent struct {
	Type string
	Data map[string]any
}

func setupAlerts(t *testing.T) (*windowStore, *clock, *hookd.Endpoint) {
	t.Helper()
	ctx := context.Background()
	ws := &windowStore{Store: openStore(t)}
	clk := &clock{t: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
	if err := ops.SyncEndpoint(ctx, ws, "https://ops.example/hook", hookd.NewSecret(), clk.now()); err != nil {
		t.Fatal(err)
	}
	ep := &hookd.Endpoint{ID: "ep_a", TenantID: "acme", URL: "https://a.example/", Secret: hookd.NewSecret(),
		Circuit: hookd.Circuit{State: hookd.CircuitClosed}, CreatedAt: clk.now(), UpdatedAt: clk.now()}
	if err := ws.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	return ws, clk, ep
}

func alertJob(ws *windowStore, clk *clock) scheduler.Job {
	em := ops.New(true, nil, clk.now)
	return scheduler.Alerts(ws, ws.windowTotals, em, scheduler.AlertConfig{Every: 30 * time.Second, Window: 5 * time.Minute,
		Threshold: 0.99, MinAttempts: 20, Now: clk.now})
}

// TestAlertFiresAndResolvesAtTheThreshold walks one endpoint across the
// threshold with a controlled clock.
func TestAlertFiresAndResolvesAtTheThreshold(t *testing.T) {
	t.Parallel()
	ws, clk, _ := setupAlerts(t)
	ctx := context.Background()
	job := alertJob(ws, clk)
	steps := []struct {
		name      string
		totals    []scheduler.EndpointTotals
		wantTypes []string // new operational events after this run
		firing    []string // keys firing after this run
	}{
		{"healthy", []scheduler.EndpointTotals{totals("ep_a", "acme", 100, 100)}, nil, nil},
		{"exactly at the threshold", []scheduler.EndpointTotals{totals("ep_a", "acme", 100, 99)}, nil, nil},
		{"below, too few attempts", []scheduler.EndpointTotals{totals("ep_a", "acme", 19, 0)}, nil, nil},
		{"just below with enough attempts", []scheduler.EndpointTotals{totals("ep_a", "acme", 1000, 989)},
			[]string{"alert.firing", "alert.firing"}, []string{"ep_a", "overall"}},
		{"still below: no second firing", []scheduler.EndpointTotals{totals("ep_a", "acme", 40, 20)}, nil, []string{"ep_a", "overall"}},
		{"no attempts: keeps firing", nil, nil, []string{"ep_a", "overall"}},
		{"back at the threshold", []scheduler.EndpointTotals{totals("ep_a", "acme", 100, 99)},
			[]string{"alert.resolved", "alert.resolved"}, nil},
		{"the ops endpoint failing never alerts", []scheduler.EndpointTotals{totals("ep_a", "acme", 100, 100),
			totals(hookd.OpsEndpointID, hookd.SystemTenant, 500, 0)}, nil, nil},
		{"a new episode", []scheduler.EndpointTotals{totals("ep_a", "acme", 20, 10)},
			[]string{"alert.firing", "alert.firing"}, []string{"ep_a", "overall"}},
	}
	seen := 0
	for _, s := range steps {
		ws.set(s.totals...)
		if err := job.Run(ctx); err != nil {
			t.Fatalf("%s: run: %v", s.name, err)
		}
		if since, until := ws.asked[0], ws.asked[1]; !until.Equal(clk.now()) || until.Sub(since) != 5*time.Minute {
			t.Errorf("%s: window [%v, %v), want the 5 minutes up to %v", s.name, since, until, clk.now())
		}
		evs := opsEvents(t, ws)
		var got []string
		for _, e := range evs[seen:] {
			got = append(got, e.Type)
		}
		seen = len(evs)
		if len(got) != len(s.wantTypes) {
			t.Errorf("%s: new operational events %v, want %v", s.name, got, s.wantTypes)
		}
		firing, err := ws.ListAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, a := range firing {
			keys = append(keys, a.Key)
		}
		if len(keys) != len(s.firing) || (len(keys) > 0 && (keys[0] != s.firing[0])) {
			t.Errorf("%s: firing %v, want %v", s.name, keys, s.firing)
		}
		clk.add(30 * time.Second)
	}

	// The data DESIGN §7 fixes, on the first firing of the endpoint.
	evs := opsEvents(t, ws)
	var first map[string]any
	for _, e := range evs {
		if e.Type == "alert.firing" && e.Data["scope"] == "endpoint" {
			first = e.Data
			break
		}
	}
	want := map[string]any{"scope": "endpoint", "endpoint_id": "ep_a", "tenant_id": "acme", "success_rate": 0.989,
		"attempts": 1000.0, "failed": 11.0, "window": "5m", "threshold": 0.99, "since": "2026-11-29T10:01:30Z"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("alert.firing data %s: got %v, want %v (all: %v)", k, first[k], v, first)
		}
	}
	var resolved map[string]any
	for _, e := range evs {
		if e.Type == "alert.resolved" && e.Data["scope"] == "overall" {
			resolved = e.Data
		}
	}
	if resolved["success_rate"] != 0.99 || resolved["since"] != "2026-11-29T10:01:30Z" || resolved["endpoint_id"] != "" {
		t.Errorf("alert.resolved data: got %v", resolved)
	}
}

// TestAlertNoDoubleFiring: a restarted node (a new job on the same store)
// and a second node evaluating at the same time fire one episode once.
func TestAlertNoDoubleFiring(t *testing.T) {
	t.Parallel()
	ws, clk, _ := setupAlerts(t)
	ctx := context.Background()
	ws.set(totals("ep_a", "acme", 50, 10))
	if err := alertJob(ws, clk).Run(ctx); err != nil {
		t.Fatal(err)
	}
	// "Restart": a fresh job, and two nodes evaluating concurrently,
	// each with its own scheduler and lease owner.
	a := scheduler.New(ws, scheduler.Config{Owner: "node-a", Now: clk.now})
	b := scheduler.New(ws, scheduler.Config{Owner: "node-b", Now: clk.now})
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		clk.add(30 * time.Second)
		wg.Add(3)
		go func() { defer wg.Done(); a.RunOnce(ctx, alertJob(ws, clk)) }()
		go func() { defer wg.Done(); b.RunOnce(ctx, alertJob(ws, clk)) }()
		// Past any lease: the job run directly, as a node whose lease
		// expired while it was still evaluating would.
		go func() { defer wg.Done(); _ = alertJob(ws, clk).Run(ctx) }()
		wg.Wait()
	}
	count := map[string]int{}
	for _, e := range opsEvents(t, ws) {
		count[e.Type+"/"+e.Data["scope"].(string)]++
	}
	if count["alert.firing/endpoint"] != 1 || count["alert.firing/overall"] != 1 || len(count) != 2 {
		t.Errorf("operational events: got %v, want one alert.firing per scope", count)
	}
	// Resolved once, too.
	ws.set(totals("ep_a", "acme", 50, 50))
	for i := 0; i < 3; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); _ = alertJob(ws, clk).Run(ctx) }()
		go func() { defer wg.Done(); _ = alertJob(ws, clk).Run(ctx) }()
		wg.Wait()
	}
	count = map[string]int{}
	for _, e := range opsEvents(t, ws) {
		count[e.Type]++
	}
	if count["alert.resolved"] != 2 {
		t.Errorf("alert.resolved events: got %d, want 2 (endpoint and overall)", count["alert.resolved"])
	}
}

// TestAlertResolvesForDeletedEndpoint: a firing endpoint alert whose
// endpoint is deleted resolves instead of firing forever.
func TestAlertResolvesForDeletedEndpoint(t *testing.T) {
	t.Parallel()
	ws, clk, ep := setupAlerts(t)
	ctx := context.Background()
	ws.set(totals(ep.ID, "acme", 50, 10))
	if err := alertJob(ws, clk).Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ws.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	ws.set()
	clk.add(time.Minute)
	if err := alertJob(ws, clk).Run(ctx); err != nil {
		t.Fatal(err)
	}
	firing, _ := ws.ListAlerts(ctx)
	if len(firing) != 1 || firing[0].Key != hookd.AlertKeyOverall {
		t.Errorf("firing after delete: got %+v, want only overall (no attempts: unknown)", firing)
	}
	evs := opsEvents(t, ws)
	last := evs[len(evs)-1]
	if last.Type != "alert.resolved" || last.Data["reason"] != "endpoint deleted" || last.Data["success_rate"] != nil {
		t.Errorf("last event: got %+v, want alert.resolved for the deleted endpoint", last)
	}
}
