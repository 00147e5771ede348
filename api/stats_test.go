package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	epA := b.endpoint(`{"url":"https://example.com/a","tenant_id":"acme"}`)
	epB := b.endpoint(`{"url":"https://example.com/b","tenant_id":"other"}`)
	for range 4 {
		b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"x","payload":{},"tenant_id":"acme"}`)
	}
	b.attempt(hookd.OutcomeSucceeded, 200) // 4 attempts to A, at clock+1h
	b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"x","payload":{},"tenant_id":"other"}`)
	b.attempt(hookd.OutcomeRetry, 500) // 1 failed attempt to B, still pending
	b.advance(2 * time.Hour)

	a := b.must(http.StatusOK, "GET", "/v1/endpoints/"+epA+"/stats?window=3h", "")
	if a["attempts"] != 4.0 || a["succeeded"] != 4.0 || a["failed"] != 0.0 || a["success_rate"] != 1.0 {
		t.Errorf("endpoint A: got attempts/succeeded/failed/rate %v/%v/%v/%v, want 4/4/0/1",
			a["attempts"], a["succeeded"], a["failed"], a["success_rate"])
	}
	if a["window"] != "3h" || a["bucket"] != "5m" || a["circuit"] != "closed" || a["consecutive_failures"] != 0.0 ||
		a["pending"] != 0.0 || a["dead"] != 0.0 || a["endpoint_id"] != epA {
		t.Errorf("endpoint A: got %v", a)
	}
	if codes := a["status_codes"].(map[string]any); len(codes) != 1 || codes["200"] != 4.0 {
		t.Errorf("status codes: got %v, want 200: 4", codes)
	}
	lat := a["latency_ms"].(map[string]any)
	for _, p := range []string{"p50", "p95", "p99"} {
		if v, _ := lat[p].(float64); v <= 1 || v > 2 { // 1.5 ms attempts, bucket (1 ms, 2 ms]
			t.Errorf("latency %s: got %v, want in (1, 2]", p, lat[p])
		}
	}
	// The clock is just past 12:00: the window is [09:01, 12:01); 5m
	// buckets start at 09:00 (cut) and end with 12:00 (filling).
	hours := b.must(http.StatusOK, "GET", "/v1/endpoints/"+epA+"/stats?window=3h&bucket=1h", "")
	for _, c := range []struct {
		st      map[string]any
		buckets int
	}{{a, 37}, {hours, 4}} {
		var sum float64
		series := c.st["series"].([]any)
		for _, s := range series {
			sum += s.(map[string]any)["attempts"].(float64)
		}
		if len(series) != c.buckets || sum != 4 {
			t.Errorf("bucket %v: got %d buckets holding %v attempts, want %d holding 4", c.st["bucket"], len(series), sum, c.buckets)
		}
	}
	if s := hours["series"].([]any)[2].(map[string]any); s["start"] != "2026-11-29T11:00:00Z" || s["attempts"] != 4.0 {
		t.Errorf("hour bucket of the attempts: got %v, want 11:00 with 4", s)
	}
	empty := b.must(http.StatusOK, "GET", "/v1/endpoints/"+epA+"/stats", "") // the last hour: nothing
	if empty["attempts"] != 0.0 || empty["success_rate"] != nil || empty["window"] != "1h" || len(empty["series"].([]any)) != 60 {
		t.Errorf("default window: got attempts %v, success_rate %v, window %v, %d buckets; want 0, null, 1h, 60",
			empty["attempts"], empty["success_rate"], empty["window"], len(empty["series"].([]any)))
	}
	if lat := empty["latency_ms"].(map[string]any); lat["p50"] != nil {
		t.Errorf("latency without attempts: got %v, want null", lat)
	}

	all := b.must(http.StatusOK, "GET", "/v1/stats?window=3h", "")
	if all["attempts"] != 5.0 || all["failed"] != 1.0 || all["endpoints"] != 2.0 || all["pending"] != 1.0 ||
		all["last_error"] != "status 500" {
		t.Errorf("overall: got %v", all)
	}
	if alerts, ok := all["alerts"].([]any); !ok || len(alerts) != 0 {
		t.Errorf("alerts: got %v, want []", all["alerts"])
	}
	if c := all["circuits"].(map[string]any); c["closed"] != 2.0 {
		t.Errorf("circuits: got %v, want 2 closed", c)
	}
	other := b.must(http.StatusOK, "GET", "/v1/stats?window=3h&tenant_id=other", "")
	if other["attempts"] != 1.0 || other["success_rate"] != 0.0 || other["tenant_id"] != "other" {
		t.Errorf("tenant other: got %v", other)
	}

	// A tenant key sees its own tenant only.
	key := b.tenantKey("acme")
	w := b.doKey(key, "GET", "/v1/stats?window=3h", "")
	var mine map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &mine); err != nil || w.Code != http.StatusOK || mine["attempts"] != 4.0 {
		t.Errorf("tenant key /v1/stats: got %d %s, want acme's 4 attempts", w.Code, w.Body)
	}
	checkError(t, b.doKey(key, "GET", "/v1/endpoints/"+epB+"/stats", ""), http.StatusNotFound, "not_found", "not found")
	checkError(t, b.doKey(key, "GET", "/v1/stats?tenant_id=other", ""), http.StatusForbidden, "forbidden", "confined")

	// Bad windows and buckets.
	checkError(t, b.do("GET", "/v1/endpoints/ep_nope/stats", ""), http.StatusNotFound, "not_found", "not found")
	checkError(t, b.do("GET", "/v1/stats?window=soon", ""), http.StatusBadRequest, "malformed", "window")
	checkError(t, b.do("GET", "/v1/stats?window=721h", ""), http.StatusUnprocessableEntity, "invalid", "window: must be at most 720h")
	checkError(t, b.do("GET", "/v1/stats?window=-1h", ""), http.StatusUnprocessableEntity, "invalid", "window: must be positive")
	checkError(t, b.do("GET", "/v1/stats?bucket=30s", ""), http.StatusUnprocessableEntity, "invalid", "bucket")
	checkError(t, b.do("GET", "/v1/stats?bucket=x", ""), http.StatusBadRequest, "malformed", "bucket")
	checkError(t, b.do("GET", "/v1/stats?window=720h&bucket=1m", ""), http.StatusUnprocessableEntity, "invalid", "at most 1440")
	checkError(t, b.do("GET", "/v1/endpoints/"+epA+"/stats?window=1h&bucket=2h", ""), http.StatusUnprocessableEntity, "invalid", "exceed")
}

func TestEndpointShowsCircuit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ep := b.endpoint(`{"url":"https://example.com/a"}`)
	b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"x","payload":{}}`)
	now := b.clock()
	cl, err := b.store.ClaimDue(t.Context(), hookd.ClaimRequest{Owner: "n", Now: now, Lease: time.Minute, Limit: 1})
	if err != nil || len(cl) != 1 {
		t.Fatalf("claim: %v %v", cl, err)
	}
	policy := hookd.CircuitPolicy{Threshold: 1, Cooldown: time.Minute, MaxCooldown: time.Hour}
	err = b.store.CompleteAttempts(t.Context(), []hookd.Completion{{Owner: "n", Outcome: hookd.OutcomeRetry, NextAttemptAt: now,
		Attempt: hookd.Attempt{DeliveryID: cl[0].Delivery.ID, Number: 1, StartedAt: now, StatusCode: 503}}}, policy)
	if err != nil {
		t.Fatal(err)
	}
	c := b.must(http.StatusOK, "GET", "/v1/endpoints/"+ep, "")["circuit"].(map[string]any)
	if c["state"] != "open" || c["consecutive_failures"] != 1.0 || c["open_until"] != now.Add(time.Minute).Format(time.RFC3339Nano) {
		t.Errorf("circuit: got %v, want open until %s", c, now.Add(time.Minute).Format(time.RFC3339Nano))
	}
	st := b.must(http.StatusOK, "GET", "/v1/endpoints/"+ep+"/stats", "")
	if st["circuit"] != "open" || st["consecutive_failures"] != 1.0 || st["last_error"] != "HTTP 503" || st["circuit_open_until"] == nil {
		t.Errorf("stats: got circuit %v, failures %v, last error %v, open until %v", st["circuit"], st["consecutive_failures"],
			st["last_error"], st["circuit_open_until"])
	}
	b.advance(time.Minute)
	c = b.must(http.StatusOK, "GET", "/v1/endpoints/"+ep, "")["circuit"].(map[string]any)
	if c["state"] != "half_open" {
		t.Errorf("after the cool-down: got %v, want half_open", c)
	}
	eps := b.must(http.StatusOK, "GET", "/v1/endpoints", "")["data"].([]any)
	if c := eps[0].(map[string]any)["circuit"].(map[string]any); c["state"] != "half_open" {
		t.Errorf("list: got circuit %v, want half_open", c)
	}
}

// TestOverallStatsLeaveOutOperationalDeliveries: /v1/stats does not count
// the system tenant's deliveries (hookd's own operational events); the ops
// endpoint's own stats do.
func TestOverallStatsLeaveOutOperationalDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	now := b.clock()
	ops := &hookd.Endpoint{ID: hookd.OpsEndpointID, TenantID: hookd.SystemTenant, URL: "https://ops.example.com/hook",
		Secret: hookd.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := b.store.CreateEndpoint(ctx, ops); err != nil {
		t.Fatal(err)
	}
	b.endpoint(`{"url":"https://example.com/a","tenant_id":"acme"}`)
	b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"x","payload":{},"tenant_id":"acme"}`)
	b.attempt(hookd.OutcomeSucceeded, 200)
	ev := hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), TenantID: hookd.SystemTenant,
		Type: hookd.EventTypeDeliveryDead, Payload: []byte(`{}`), CreatedAt: now}}
	if _, err := b.store.IngestEvents(ctx, []hookd.NewEvent{ev}); err != nil {
		t.Fatal(err)
	}
	b.attempt(hookd.OutcomeDead, 502) // the ops receiver fails
	b.advance(2 * time.Hour)

	all := b.must(http.StatusOK, "GET", "/v1/stats?window=3h", "")
	if all["attempts"] != 1.0 || all["failed"] != 0.0 || all["endpoints"] != 1.0 || all["dead"] != 0.0 || all["success_rate"] != 1.0 {
		t.Errorf("overall: got %v, want acme's 1 successful attempt only", all)
	}
	own := b.must(http.StatusOK, "GET", "/v1/endpoints/"+hookd.OpsEndpointID+"/stats?window=3h", "")
	if own["attempts"] != 1.0 || own["failed"] != 1.0 || own["dead"] != 1.0 {
		t.Errorf("ops endpoint: got %v, want its failed attempt and dead delivery", own)
	}
}
