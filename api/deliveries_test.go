package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// attempt claims every due delivery and records one attempt for each with
// outcome, as the dispatcher would.
func (b *bundle) attempt(outcome hookd.Outcome, status int) {
	b.t.Helper()
	ctx := context.Background()
	now := b.clock().Add(time.Hour) // past every NextAttemptAt
	claims, err := b.store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "test", Now: now, Lease: time.Minute, Limit: 100})
	if err != nil {
		b.t.Fatal(err)
	}
	var cs []hookd.Completion
	for _, c := range claims {
		cs = append(cs, hookd.Completion{
			Owner:   "test",
			Outcome: outcome,
			Attempt: hookd.Attempt{
				DeliveryID: c.Delivery.ID, Number: c.Delivery.Attempts + 1, StartedAt: now,
				StatusCode: status, Latency: 1500 * time.Microsecond, ResponseBody: "nope", Error: fmt.Sprint("status ", status),
			},
			NextAttemptAt: now, // due again at once
		})
	}
	if err := b.store.CompleteAttempts(ctx, cs, hookd.CircuitPolicy{}); err != nil {
		b.t.Fatal(err)
	}
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ep1 := b.endpoint(`{"url":"https://example.com/1"}`)
	ep2 := b.endpoint(`{"url":"https://example.com/2","event_types":["only.this"]}`)
	ev := b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"only.this","payload":{}}`)["id"].(string)
	b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"other","payload":{}}`)

	tests := []struct {
		query string
		want  int
	}{
		{"", 3},
		{"?status=pending", 3},
		{"?status=dead", 0},
		{"?endpoint_id=" + ep1, 2},
		{"?endpoint_id=" + ep2, 1},
		{"?event_id=" + ev, 2},
		{"?event_id=" + ev + "&endpoint_id=" + ep2, 1},
	}
	for _, tt := range tests {
		got := b.must(http.StatusOK, "GET", "/v1/deliveries"+tt.query, "")
		if n := len(got["data"].([]any)); n != tt.want {
			t.Errorf("%q: got %d deliveries, want %d", tt.query, n, tt.want)
		}
	}
	checkError(t, b.do("GET", "/v1/deliveries?status=failed", ""), 422, hookd.EINVALID, "status: must be pending, succeeded or dead")
	checkError(t, b.do("GET", "/v1/deliveries?limit=0", ""), 422, hookd.EINVALID, "limit")

	// Two failed attempts, then dead.
	b.attempt(hookd.OutcomeRetry, 500)
	b.attempt(hookd.OutcomeDead, 503)
	d := b.deliveries(hookd.DeliveryFilter{EndpointID: ep2})[0]
	got := b.must(http.StatusOK, "GET", "/v1/deliveries/"+d.ID, "")
	want := map[string]any{"id": d.ID, "event_id": ev, "endpoint_id": ep2, "status": "dead", "attempts": 2.0,
		"next_attempt_at": nil, "last_status_code": 503.0, "last_error": "status 503"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("delivery %s: got %v, want %v", k, got[k], v)
		}
	}
	if len(got) != 10 {
		t.Errorf("got %d delivery fields, want 10: %v", len(got), got)
	}
	checkError(t, b.do("GET", "/v1/deliveries/dlv_missing", ""), 404, hookd.ENOTFOUND, "")

	att := b.must(http.StatusOK, "GET", "/v1/deliveries/"+d.ID+"/attempts", "")
	list := att["data"].([]any)
	if len(list) != 2 {
		t.Fatalf("got %d attempts, want 2", len(list))
	}
	a1 := list[0].(map[string]any)
	if a1["number"] != 1.0 || a1["status_code"] != 500.0 || a1["latency_ms"] != 1.5 || a1["response_body"] != "nope" ||
		a1["error"] != "status 500" || a1["started_at"] == nil || len(a1) != 6 {
		t.Errorf("got first attempt %v", a1)
	}
	page := b.must(http.StatusOK, "GET", "/v1/deliveries/"+d.ID+"/attempts?limit=1", "")
	if page["next_cursor"] == "" || page["data"].([]any)[0].(map[string]any)["number"] != 1.0 {
		t.Errorf("got page %v, want attempt 1 and a cursor", page)
	}
	page = b.must(http.StatusOK, "GET", "/v1/deliveries/"+d.ID+"/attempts?limit=1&cursor="+page["next_cursor"].(string), "")
	if page["next_cursor"] != "" || page["data"].([]any)[0].(map[string]any)["number"] != 2.0 {
		t.Errorf("got page %v, want attempt 2 and no cursor", page)
	}
	checkError(t, b.do("GET", "/v1/deliveries/"+d.ID+"/attempts?cursor=abc", ""), 400, hookd.EMALFORMED, "cursor")
	checkError(t, b.do("GET", "/v1/deliveries/dlv_missing/attempts", ""), 404, hookd.ENOTFOUND, "")

	// Retry: any status, 202, wakes the dispatcher.
	wakes := b.wakes.Load()
	r := b.must(http.StatusAccepted, "POST", "/v1/deliveries/"+d.ID+"/retry", "")
	if r["status"] != "pending" || r["next_attempt_at"] == nil {
		t.Errorf("got %v, want pending now", r)
	}
	if b.wakes.Load() != wakes+1 {
		t.Errorf("retry did not wake the dispatcher")
	}
	checkError(t, b.do("POST", "/v1/deliveries/dlv_missing/retry", ""), 404, hookd.ENOTFOUND, "")
}

func TestReplayDeadLetters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ep1 := b.endpoint(`{"url":"https://example.com/1"}`)
	b.endpoint(`{"url":"https://example.com/2"}`)
	b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"a.x","payload":{}}`)
	b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"b.x","payload":{}}`)
	b.attempt(hookd.OutcomeDead, 500)
	if n := len(b.deliveries(hookd.DeliveryFilter{Status: hookd.StatusDead})); n != 4 {
		t.Fatalf("got %d dead, want 4", n)
	}

	tests := []struct {
		name string
		body string
		want float64
	}{
		{"future window", `{"since":"2100-01-01T00:00:00Z"}`, 0},
		{"one endpoint and type", `{"endpoint_id":"` + ep1 + `","event_type":"a.x"}`, 1},
		{"one type", `{"event_type":"b.x","until":"2100-01-01T00:00:00Z"}`, 2},
		{"the rest", ``, 1},
		{"nothing left", `{}`, 0},
	}
	for _, tt := range tests {
		wakes := b.wakes.Load()
		got := b.must(http.StatusAccepted, "POST", "/v1/dead-letters/replay", tt.body)
		if got["replayed"] != tt.want {
			t.Errorf("%s: got replayed %v, want %v", tt.name, got["replayed"], tt.want)
		}
		if woke := b.wakes.Load() > wakes; woke != (tt.want > 0) {
			t.Errorf("%s: woke %v, want %v", tt.name, woke, tt.want > 0)
		}
	}
	bad := []struct{ body, status, want string }{
		{`{"since":"yesterday"}`, "422", "since: must be an RFC 3339 time"},
		{`{"until":"2026-13-01T00:00:00Z"}`, "422", "until: must be an RFC 3339 time"},
		{`{"since":"2026-02-01T00:00:00Z","until":"2026-01-01T00:00:00Z"}`, "422", "until: must be after since"},
		{`{"endpoint":"x"}`, "400", `unknown field "endpoint"`},
		{`{"since":1}`, "400", "since: got JSON number, want string"},
	}
	for _, tt := range bad {
		w := b.do("POST", "/v1/dead-letters/replay", tt.body)
		if fmt.Sprint(w.Code) != tt.status {
			t.Errorf("%s: got %d, want %s", tt.body, w.Code, tt.status)
		}
		checkError(t, w, w.Code, map[int]string{400: hookd.EMALFORMED, 422: hookd.EINVALID}[w.Code], tt.want)
	}
}
