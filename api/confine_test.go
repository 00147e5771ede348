package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
)

// doKey sends a request with key as the bearer key.
func (b *bundle) doKey(key, method, path, body string) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.do(method, path, body, "Authorization: Bearer "+key)
}

// tenantKey creates a key of tenant through the API and returns it.
func (b *bundle) tenantKey(tenant string) string {
	b.t.Helper()
	body := `{"name":"key of ` + tenant + `"}`
	if tenant != "" {
		body = `{"name":"key of ` + tenant + `","tenant_id":"` + tenant + `"}`
	}
	k := b.must(http.StatusCreated, "POST", "/v1/api-keys", body)
	return k["key"].(string)
}

// matrix is the confinement test's world: keys of tenants a and b and the
// admin key, and tenant a's endpoint, event and delivery.
type matrix struct {
	*bundle
	keyA, keyB    string
	epA, evA, dlA string
}

func newMatrix(t *testing.T, b *bundle) *matrix {
	m := &matrix{bundle: b, keyA: b.tenantKey("a"), keyB: b.tenantKey("b")}
	m.epA = b.endpoint(`{"url":"https://example.com/a","tenant_id":"a"}`)
	b.endpoint(`{"url":"https://example.com/b","tenant_id":"b"}`)
	m.evA = b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"order.created","payload":{},"tenant_id":"a"}`)["id"].(string)
	b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"order.created","payload":{},"tenant_id":"b"}`)
	ds := b.deliveries(hookd.DeliveryFilter{EventID: m.evA})
	if len(ds) != 1 {
		t.Fatalf("got %d deliveries of tenant a's event, want 1", len(ds))
	}
	m.dlA = ds[0].ID
	return m
}

// want is what one principal gets: a status and, for lists, whether the
// answer shows tenant a's resource.
type want struct {
	status int
	sees   bool
}

// matrixCase is one route of the table with what admin, tenant a's key
// and tenant b's key get. path and body may create what they need (a
// DELETE gets a fresh resource of tenant a each time).
type matrixCase struct {
	path  func(m *matrix) string
	body  string
	shows func(m *matrix) string // for lists: the id tenant a's key must see and b's must not
	admin want
	a, b  want
}

func fixed(p string) func(*matrix) string { return func(*matrix) string { return p } }

// confinementCases has one case per route of the table: TestConfinement
// fails for a route without one.
var confinementCases = map[string]matrixCase{
	"POST /v1/endpoints": {path: fixed("/v1/endpoints"), body: `{"url":"https://example.com/n","tenant_id":"a"}`,
		admin: want{201, false}, a: want{201, false}, b: want{403, false}},
	"GET /v1/endpoints": {path: fixed("/v1/endpoints"), shows: func(m *matrix) string { return m.epA },
		admin: want{200, true}, a: want{200, true}, b: want{200, false}},
	"GET /v1/endpoints/{id}": {path: func(m *matrix) string { return "/v1/endpoints/" + m.epA },
		admin: want{200, true}, a: want{200, true}, b: want{404, false}},
	"PATCH /v1/endpoints/{id}": {path: func(m *matrix) string { return "/v1/endpoints/" + m.epA }, body: `{"description":"changed"}`,
		admin: want{200, false}, a: want{200, false}, b: want{404, false}},
	"DELETE /v1/endpoints/{id}": {path: func(m *matrix) string {
		return "/v1/endpoints/" + m.endpoint(`{"url":"https://example.com/d","tenant_id":"a"}`)
	}, admin: want{204, false}, a: want{204, false}, b: want{404, false}},
	"POST /v1/endpoints/{id}/rotate-secret": {path: func(m *matrix) string { return "/v1/endpoints/" + m.epA + "/rotate-secret" },
		admin: want{200, false}, a: want{200, false}, b: want{404, false}},
	"POST /v1/endpoints/{id}/test": {path: func(m *matrix) string { return "/v1/endpoints/" + m.epA + "/test" },
		admin: want{202, false}, a: want{202, false}, b: want{404, false}},
	"GET /v1/endpoints/{id}/stats": {path: func(m *matrix) string { return "/v1/endpoints/" + m.epA + "/stats" },
		admin: want{200, false}, a: want{200, false}, b: want{404, false}},
	"POST /v1/events": {path: fixed("/v1/events"), body: `{"type":"x","payload":{},"tenant_id":"a"}`,
		admin: want{202, false}, a: want{202, false}, b: want{403, false}},
	"POST /v1/events/batch": {path: fixed("/v1/events/batch"), body: `{"events":[{"type":"x","payload":{},"tenant_id":"a"}]}`,
		admin: want{202, false}, a: want{202, false}, b: want{403, false}},
	"GET /v1/events": {path: fixed("/v1/events"), shows: func(m *matrix) string { return m.evA },
		admin: want{200, true}, a: want{200, true}, b: want{200, false}},
	"GET /v1/events/{id}": {path: func(m *matrix) string { return "/v1/events/" + m.evA },
		admin: want{200, false}, a: want{200, false}, b: want{404, false}},
	"GET /v1/deliveries": {path: fixed("/v1/deliveries"), shows: func(m *matrix) string { return m.dlA },
		admin: want{200, true}, a: want{200, true}, b: want{200, false}},
	"GET /v1/deliveries/{id}": {path: func(m *matrix) string { return "/v1/deliveries/" + m.dlA },
		admin: want{200, false}, a: want{200, false}, b: want{404, false}},
	"GET /v1/deliveries/{id}/attempts": {path: func(m *matrix) string { return "/v1/deliveries/" + m.dlA + "/attempts" },
		admin: want{200, false}, a: want{200, false}, b: want{404, false}},
	"POST /v1/deliveries/{id}/retry": {path: func(m *matrix) string { return "/v1/deliveries/" + m.dlA + "/retry" },
		admin: want{202, false}, a: want{202, false}, b: want{404, false}},
	"POST /v1/dead-letters/replay": {path: fixed("/v1/dead-letters/replay"), body: `{"tenant_id":"a"}`,
		admin: want{202, false}, a: want{202, false}, b: want{403, false}},
	"GET /v1/stats": {path: fixed("/v1/stats?tenant_id=a"),
		admin: want{200, false}, a: want{200, false}, b: want{403, false}},
	"POST /v1/api-keys": {path: fixed("/v1/api-keys"), body: `{"name":"n"}`,
		admin: want{201, false}, a: want{403, false}, b: want{403, false}},
	"GET /v1/api-keys": {path: fixed("/v1/api-keys"),
		admin: want{200, false}, a: want{403, false}, b: want{403, false}},
	"DELETE /v1/api-keys/{id}": {path: func(m *matrix) string {
		id := m.must(http.StatusCreated, "POST", "/v1/api-keys", `{"name":"doomed","tenant_id":"a"}`)["id"].(string)
		return "/v1/api-keys/" + id
	}, admin: want{204, false}, a: want{403, false}, b: want{403, false}},
	"POST /v1/portal-links": {path: fixed("/v1/portal-links"), body: `{"tenant_id":"a"}`,
		admin: want{201, false}, a: want{403, false}, b: want{403, false}},
	"GET /healthz":      {path: fixed("/healthz"), admin: want{200, false}, a: want{200, false}, b: want{200, false}},
	"GET /readyz":       {path: fixed("/readyz"), admin: want{200, false}, a: want{200, false}, b: want{200, false}},
	"GET /openapi.json": {path: fixed("/openapi.json"), admin: want{200, false}, a: want{200, false}, b: want{200, false}},
	"GET /metrics":      {path: fixed("/metrics"), admin: want{200, false}, a: want{200, false}, b: want{200, false}},
}

// runConfinement walks every registered route × {admin, tenant a, tenant b}.
func runConfinement(t *testing.T, b *bundle) {
	srv := New(Config{Store: b.store, Logger: quiet, Metrics: http.NotFoundHandler()})
	m := newMatrix(t, b)
	keys := []struct {
		name string
		key  string
		pick func(matrixCase) want
	}{
		{"admin", testKey, func(c matrixCase) want { return c.admin }},
		{"tenant a", m.keyA, func(c matrixCase) want { return c.a }},
		{"tenant b", m.keyB, func(c matrixCase) want { return c.b }},
	}
	seen := map[string]bool{}
	for _, rt := range srv.routes() {
		name := rt.method + " " + rt.path
		seen[name] = true
		c, ok := confinementCases[name]
		if !ok {
			t.Errorf("route %s has no case in confinementCases: give it an access rule and a case", name)
			continue
		}
		if rt.path == "/metrics" {
			continue // served by Config.Metrics, not confined
		}
		for _, k := range keys {
			w := k.pick(c)
			path := c.path(m)
			got := b.doKey(k.key, rt.method, path, c.body)
			if got.Code != w.status {
				t.Errorf("%s as %s: got %d, want %d: %s", name, k.name, got.Code, w.status, got.Body)
				continue
			}
			if w.status == http.StatusNotFound && !strings.Contains(got.Body.String(), "not found") {
				t.Errorf("%s as %s: got body %s, want a not-found error", name, k.name, got.Body)
			}
			if c.shows != nil {
				if sees := strings.Contains(got.Body.String(), c.shows(m)); sees != w.sees {
					t.Errorf("%s as %s: shows tenant a's %s = %v, want %v", name, k.name, c.shows(m), sees, w.sees)
				}
			}
		}
	}
	for name := range confinementCases {
		if !seen[name] && !strings.Contains(name, "stats") {
			t.Errorf("confinementCases has %s, which is not a route", name)
		}
	}
}

func TestConfinementSQLite(t *testing.T) {
	t.Parallel()
	runConfinement(t, setup(t))
}

func TestConfinementPostgres(t *testing.T) {
	t.Parallel()
	b := setupStore(t, openPostgres(t))
	runConfinement(t, b)
}

// openPostgres opens a store on a pooled schema (skips without
// HOOKD_TEST_POSTGRES_URL, fails under CI).
func openPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	url := pgSchemas.Schema(t)
	s, err := postgres.Open(context.Background(), url, postgres.Options{})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	return s
}

// TestAccessRuleRequired: Handler refuses a route without an access rule.
func TestAccessRuleRequired(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := New(Config{Store: b.store, Logger: quiet})
	defer func() {
		if recover() == nil {
			t.Error("guard of a route without an access rule did not panic")
		}
	}()
	srv.guard(route{method: "GET", path: "/v1/new", handler: func(http.ResponseWriter, *http.Request) {}}, true)
}

// TestTenantKeyCreatesInItsTenant: a tenant key's creates and ingest take
// its tenant when the body names none.
func TestTenantKeyCreatesInItsTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.tenantKey("acme")
	w := b.doKey(key, "POST", "/v1/endpoints", `{"url":"https://example.com/h"}`)
	var ep map[string]any
	if w.Code != 201 || json.Unmarshal(w.Body.Bytes(), &ep) != nil || ep["tenant_id"] != "acme" {
		t.Fatalf("create as tenant key: got %d %s, want 201 with tenant_id acme", w.Code, w.Body)
	}
	w = b.doKey(key, "POST", "/v1/events", `{"type":"x","payload":{}}`)
	var ev map[string]any
	if w.Code != 202 || json.Unmarshal(w.Body.Bytes(), &ev) != nil || ev["tenant_id"] != "acme" || ev["deliveries"] != 1.0 {
		t.Fatalf("ingest as tenant key: got %d %s, want 202 with tenant_id acme and 1 delivery", w.Code, w.Body)
	}
	// Moving an endpoint to another tenant is refused, as is a batch with
	// one event of another tenant (naming the event).
	checkError(t, b.doKey(key, "PATCH", "/v1/endpoints/"+ep["id"].(string), `{"tenant_id":"other"}`), 403, hookd.EFORBIDDEN, "tenant_id")
	checkError(t, b.doKey(key, "POST", "/v1/events/batch", `{"events":[{"type":"x","payload":{}},{"type":"x","payload":{},"tenant_id":"z"}]}`),
		403, hookd.EFORBIDDEN, "events[1].tenant_id")
	checkError(t, b.doKey(key, "GET", "/v1/endpoints?tenant_id=other", ""), 403, hookd.EFORBIDDEN, "confined")
	if n := len(b.events()); n != 1 {
		t.Errorf("got %d events stored, want 1 (the refused batch stores nothing)", n)
	}
}

// TestTenantReplaysOnlyItsOwn: a tenant key's replay requeues only the
// dead deliveries of its tenant; the admin's replays all.
func TestTenantReplaysOnlyItsOwn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keyA := b.tenantKey("a")
	for _, tenant := range []string{"a", "b"} {
		b.endpoint(`{"url":"https://example.com/` + tenant + `","tenant_id":"` + tenant + `"}`)
		b.must(202, "POST", "/v1/events", `{"type":"x","payload":{},"tenant_id":"`+tenant+`"}`)
	}
	b.killAll()
	got := b.must(202, "POST", "/v1/dead-letters/replay", "", "Authorization: Bearer "+keyA)
	if got["replayed"] != 1.0 {
		t.Errorf("tenant a's replay: got %v replayed, want 1", got["replayed"])
	}
	a := "a"
	if ds := b.deliveries(hookd.DeliveryFilter{Status: hookd.StatusDead}); len(ds) != 1 {
		t.Errorf("after tenant a's replay: got %d dead, want 1 (tenant b's)", len(ds))
	} else if own := b.deliveries(hookd.DeliveryFilter{Status: hookd.StatusDead, TenantID: &a}); len(own) != 0 {
		t.Errorf("tenant a still has %d dead deliveries", len(own))
	}
	got = b.must(202, "POST", "/v1/dead-letters/replay", "")
	if got["replayed"] != 1.0 {
		t.Errorf("admin replay: got %v replayed, want 1", got["replayed"])
	}
}

// killAll makes every pending delivery dead through the store.
func (b *bundle) killAll() {
	b.t.Helper()
	ctx := context.Background()
	now := time.Now().Add(time.Hour)
	cs, err := b.store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "killer", Now: now, Lease: time.Minute, Limit: 100})
	if err != nil {
		b.t.Fatal(err)
	}
	var comps []hookd.Completion
	for _, c := range cs {
		comps = append(comps, hookd.Completion{Owner: "killer", Outcome: hookd.OutcomeDead,
			Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: now, StatusCode: 500}})
	}
	if err := b.store.CompleteAttempts(ctx, comps, hookd.CircuitPolicy{}); err != nil {
		b.t.Fatal(err)
	}
}
