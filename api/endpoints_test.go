package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"no header", "Authorization: ", http.StatusUnauthorized},
		{"wrong scheme", "Authorization: Basic " + testKey, http.StatusUnauthorized},
		{"empty token", "Authorization: Bearer ", http.StatusUnauthorized},
		{"wrong key", "Authorization: Bearer nope", http.StatusUnauthorized},
		{"key with suffix", "Authorization: Bearer " + testKey + "x", http.StatusUnauthorized},
		{"good key", "Authorization: Bearer " + testKey, http.StatusOK},
		{"lowercase scheme", "Authorization: bearer " + testKey, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := b.do("GET", "/v1/endpoints", "", tt.header)
			if w.Code != tt.want {
				t.Fatalf("got %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want == http.StatusUnauthorized {
				checkError(t, w, http.StatusUnauthorized, hookd.EUNAUTHORIZED, "API key")
				if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("got WWW-Authenticate %q, want Bearer …", got)
				}
			}
		})
	}
	// Every /v1 route needs the key; the public ones do not.
	for _, rt := range New(Config{Store: b.store, Logger: quiet}).routes() {
		path := strings.ReplaceAll(rt.path, "{id}", "x_1")
		w := b.do(rt.method, path, "", "Authorization: ")
		if rt.access.public && w.Code == http.StatusUnauthorized {
			t.Errorf("%s %s: got 401, want public", rt.method, rt.path)
		}
		if !rt.access.public && w.Code != http.StatusUnauthorized {
			t.Errorf("%s %s without key: got %d, want 401", rt.method, rt.path, w.Code)
		}
	}
}

func TestZeroKeyHashRefusesAll(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.APIKeyHash = [32]byte{} })
	w := b.do("GET", "/v1/endpoints", "")
	checkError(t, w, http.StatusUnauthorized, hookd.EUNAUTHORIZED, "invalid API key")
}

func TestEndpointCRUD(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.must(http.StatusCreated, "POST", "/v1/endpoints", `{"url":"https://example.com/hook","tenant_id":"acme",
		"description":"orders","event_types":["order.*","invoice.paid"],"headers":{"x-team":"billing"},
		"max_attempts":5,"rate_limit_per_second":2.5,"max_in_flight":4}`)
	id := got["id"].(string)
	if !hookd.HasPrefix(id, hookd.PrefixEndpoint) {
		t.Errorf("got id %q, want prefix %q", id, hookd.PrefixEndpoint)
	}
	if err := hookd.ValidateSecret(got["secret"].(string)); err != nil {
		t.Errorf("generated secret: %v", err)
	}
	for _, f := range []string{"id", "tenant_id", "url", "description", "event_types", "secret", "headers", "max_attempts",
		"rate_limit_per_second", "max_in_flight", "disabled", "disabled_reason", "circuit", "created_at", "updated_at"} {
		if _, ok := got[f]; !ok {
			t.Errorf("endpoint lacks field %q", f)
		}
	}
	if len(got) != 15 {
		t.Errorf("got %d endpoint fields, want 15: %v", len(got), got)
	}
	if c := got["circuit"].(map[string]any); c["state"] != "closed" || c["consecutive_failures"] != 0.0 || c["open_until"] != nil {
		t.Errorf("got circuit %v, want closed, 0 failures, open_until null", c)
	}
	if h := got["headers"].(map[string]any); h["X-Team"] != "billing" {
		t.Errorf("got headers %v, want X-Team: billing (canonical)", h)
	}
	if got["created_at"] != "2026-11-29T10:00:00.001Z" {
		t.Errorf("got created_at %v, want RFC 3339 UTC", got["created_at"])
	}

	one := b.must(http.StatusOK, "GET", "/v1/endpoints/"+id, "")
	if one["url"] != "https://example.com/hook" || one["rate_limit_per_second"] != 2.5 {
		t.Errorf("got %v", one)
	}

	// PATCH changes only the given fields; null is "unchanged".
	p := b.must(http.StatusOK, "PATCH", "/v1/endpoints/"+id, `{"description":"all orders","max_attempts":null,"event_types":[]}`)
	if p["description"] != "all orders" || p["max_attempts"] != 5.0 || len(p["event_types"].([]any)) != 0 || p["url"] != "https://example.com/hook" {
		t.Errorf("after patch got %v", p)
	}
	if p["updated_at"] == p["created_at"] {
		t.Errorf("updated_at did not change")
	}
	p = b.must(http.StatusOK, "PATCH", "/v1/endpoints/"+id, `{"disabled":true}`)
	if p["disabled"] != true || p["disabled_reason"] != disabledByAPI {
		t.Errorf("disable: got %v / %v", p["disabled"], p["disabled_reason"])
	}
	// A reason set by the dispatcher (410 Gone) is cleared by re-enabling.
	for _, u := range []hookd.EndpointUpdate{{Disabled: hookd.Ptr(false)}, {Disabled: hookd.Ptr(true), DisabledReason: "endpoint answered 410 Gone"}} {
		if _, err := b.store.UpdateEndpointFields(context.Background(), id, u); err != nil {
			t.Fatal(err)
		}
	}
	p = b.must(http.StatusOK, "PATCH", "/v1/endpoints/"+id, `{"disabled":false}`)
	if p["disabled"] != false || p["disabled_reason"] != "" {
		t.Errorf("re-enable: got %v / %q", p["disabled"], p["disabled_reason"])
	}

	b.must(http.StatusNoContent, "DELETE", "/v1/endpoints/"+id, "")
	checkError(t, b.do("GET", "/v1/endpoints/"+id, ""), http.StatusNotFound, hookd.ENOTFOUND, "")
	checkError(t, b.do("DELETE", "/v1/endpoints/"+id, ""), http.StatusNotFound, hookd.ENOTFOUND, "")
	checkError(t, b.do("PATCH", "/v1/endpoints/"+id, `{"description":"x"}`), http.StatusNotFound, hookd.ENOTFOUND, "")
}

func TestEndpointValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	long := strings.Repeat("a", 2050)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		want   string
	}{
		{"no url", `{}`, 422, hookd.EINVALID, "url: is required"},
		{"empty url", `{"url":""}`, 422, hookd.EINVALID, "url: is required"},
		{"relative url", `{"url":"/hook"}`, 422, hookd.EINVALID, "url: scheme"},
		{"ftp url", `{"url":"ftp://example.com"}`, 422, hookd.EINVALID, "url: scheme must be http or https"},
		{"no host", `{"url":"https:///x"}`, 422, hookd.EINVALID, "url: host is missing"},
		{"long url", `{"url":"https://example.com/` + long + `"}`, 422, hookd.EINVALID, "url: must be at most 2048"},
		{"loopback", `{"url":"http://127.0.0.1:8080/x"}`, 422, hookd.EINVALID, "url: destination 127.0.0.1"},
		{"metadata", `{"url":"http://169.254.169.254/latest"}`, 422, hookd.EINVALID, "url: destination"},
		{"private v6", `{"url":"http://[fd00::1]/x"}`, 422, hookd.EINVALID, "url: destination"},
		{"localhost", `{"url":"http://localhost/x"}`, 422, hookd.EINVALID, "url: destination localhost"},
		{"credentials", `{"url":"https://u:p@example.com/"}`, 422, hookd.EINVALID, "url: credentials"},
		{"empty event type", `{"url":"https://example.com","event_types":["a",""]}`, 422, hookd.EINVALID, "event_types[1]: must not be empty"},
		{"long event type", `{"url":"https://example.com","event_types":["` + strings.Repeat("a", 129) + `"]}`, 422, hookd.EINVALID, "event_types[0]: must be at most 128"},
		{"bad pattern", `{"url":"https://example.com","event_types":["order*"]}`, 422, hookd.EINVALID, "event_types[0]: must be an event type or a prefix"},
		{"inner star", `{"url":"https://example.com","event_types":["a.*.b"]}`, 422, hookd.EINVALID, "event_types[0]"},
		{"space in type", `{"url":"https://example.com","event_types":["a b"]}`, 422, hookd.EINVALID, "event_types[0]: must be printable"},
		{"bad secret prefix", `{"url":"https://example.com","secret":"abc"}`, 422, hookd.EINVALID, "secret: must start with"},
		{"short secret", `{"url":"https://example.com","secret":"whsec_AAAA"}`, 422, hookd.EINVALID, "secret: must encode 24 to 64 bytes"},
		{"bad header name", `{"url":"https://example.com","headers":{"bad name":"x"}}`, 422, hookd.EINVALID, `headers: "bad name" is not a valid header name`},
		{"bad header value", `{"url":"https://example.com","headers":{"X-A":"a\nb"}}`, 422, hookd.EINVALID, "headers.X-A: value"},
		{"reserved header", `{"url":"https://example.com","headers":{"webhook-signature":"x"}}`, 422, hookd.EINVALID, "headers.webhook-signature: is reserved"},
		{"reserved user agent", `{"url":"https://example.com","headers":{"User-Agent":"x"}}`, 422, hookd.EINVALID, "headers.User-Agent: is reserved"},
		{"hop by hop", `{"url":"https://example.com","headers":{"Transfer-Encoding":"x"}}`, 422, hookd.EINVALID, "is reserved"},
		{"duplicate header", `{"url":"https://example.com","headers":{"X-A":"1","x-a":"2"}}`, 400, hookd.EMALFORMED, "differ only in case"},
		{"too many headers", `{"url":"https://example.com","headers":{` + manyHeaders(21) + `}}`, 422, hookd.EINVALID, "headers: must hold at most 20"},
		{"negative attempts", `{"url":"https://example.com","max_attempts":-1}`, 422, hookd.EINVALID, "max_attempts: must be from 0"},
		{"too many attempts", `{"url":"https://example.com","max_attempts":101}`, 422, hookd.EINVALID, "max_attempts"},
		{"negative rate", `{"url":"https://example.com","rate_limit_per_second":-0.5}`, 422, hookd.EINVALID, "rate_limit_per_second"},
		{"negative in flight", `{"url":"https://example.com","max_in_flight":-1}`, 422, hookd.EINVALID, "max_in_flight: must be from 0"},
		{"huge in flight", `{"url":"https://example.com","max_in_flight":1001}`, 422, hookd.EINVALID, "max_in_flight"},
		{"long description", `{"url":"https://example.com","description":"` + strings.Repeat("d", 1025) + `"}`, 422, hookd.EINVALID, "description: must be at most 1024"},
		{"long tenant", `{"url":"https://example.com","tenant_id":"` + strings.Repeat("t", 129) + `"}`, 422, hookd.EINVALID, "tenant_id: must be at most 128"},
		{"fractional attempts", `{"url":"https://example.com","max_attempts":1.5}`, 400, hookd.EMALFORMED, "max_attempts: got JSON number 1.5, want integer"},
		{"url as number", `{"url":5}`, 400, hookd.EMALFORMED, "url: got JSON number, want string"},
		{"unknown field", `{"url":"https://example.com","colour":"red"}`, 400, hookd.EMALFORMED, `unknown field "colour"`},
		{"malformed", `{"url":`, 400, hookd.EMALFORMED, "malformed JSON"},
		{"syntax", `{"url" "x"}`, 400, hookd.EMALFORMED, "malformed JSON at byte"},
		{"trailing", `{"url":"https://example.com"} {}`, 400, hookd.EMALFORMED, "unexpected data after the JSON object"},
		{"array", `[]`, 400, hookd.EMALFORMED, "want an object"},
		{"empty body", ``, 400, hookd.EMALFORMED, "request body is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, b.do("POST", "/v1/endpoints", tt.body), tt.status, tt.code, tt.want)
		})
	}
	// PATCH validates the same way.
	id := b.endpoint(`{"url":"https://example.com"}`)
	checkError(t, b.do("PATCH", "/v1/endpoints/"+id, `{"max_in_flight":-3}`), 422, hookd.EINVALID, "max_in_flight")
	checkError(t, b.do("PATCH", "/v1/endpoints/"+id, `{"url":"http://10.0.0.1/"}`), 422, hookd.EINVALID, "url: destination")
	// Nothing half-written: the failed requests stored nothing.
	eps, _, err := b.store.ListEndpoints(context.Background(), nil, hookd.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 || eps[0].URL != "https://example.com" || eps[0].MaxInFlight != 0 {
		t.Errorf("got %d endpoints (%+v), want the one valid one unchanged", len(eps), eps)
	}
}

func manyHeaders(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`"X-H%d":"v"`, i))
	}
	return strings.Join(parts, ",")
}

func TestEndpointSecretGivenAndAllowPrivate(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Guard.AllowPrivate = true })
	secret := hookd.NewSecret()
	got := b.must(http.StatusCreated, "POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/x","secret":"`+secret+`","disabled":true}`)
	if got["secret"] != secret {
		t.Errorf("got secret %v, want the given one", got["secret"])
	}
	if got["disabled"] != true || got["disabled_reason"] != disabledByAPI {
		t.Errorf("got disabled %v reason %q", got["disabled"], got["disabled_reason"])
	}
}

func TestEndpointsPerTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxEndpointsPerTenant = 2 })
	b.endpoint(`{"url":"https://example.com/1","tenant_id":"a"}`)
	b.endpoint(`{"url":"https://example.com/2","tenant_id":"a"}`)
	checkError(t, b.do("POST", "/v1/endpoints", `{"url":"https://example.com/3","tenant_id":"a"}`),
		http.StatusConflict, hookd.ECONFLICT, `tenant "a" already has the maximum of 2 endpoints`)
	id := b.endpoint(`{"url":"https://example.com/4","tenant_id":"b"}`)
	checkError(t, b.do("PATCH", "/v1/endpoints/"+id, `{"tenant_id":"a"}`), http.StatusConflict, hookd.ECONFLICT, "maximum")
	b.must(http.StatusOK, "PATCH", "/v1/endpoints/"+id, `{"tenant_id":"b","description":"same tenant is fine"}`)
}

func TestListEndpointsPagination(t *testing.T) {
	t.Parallel()
	b := setup(t)
	want := map[string]bool{}
	for i := range 7 {
		want[b.endpoint(fmt.Sprintf(`{"url":"https://example.com/%d","tenant_id":"t1"}`, i))] = true
	}
	b.endpoint(`{"url":"https://example.com/other","tenant_id":"t2"}`)
	b.endpoint(`{"url":"https://example.com/none"}`)

	seen := map[string]bool{}
	cursor, pages := "", 0
	var last string
	for {
		page := b.must(http.StatusOK, "GET", "/v1/endpoints?tenant_id=t1&limit=3&cursor="+cursor, "")
		pages++
		for _, item := range page["data"].([]any) {
			id := item.(map[string]any)["id"].(string)
			if seen[id] {
				t.Errorf("id %s on two pages", id)
			}
			if last != "" && id >= last {
				t.Errorf("got %s after %s, want newest first", id, last)
			}
			seen[id], last = true, id
		}
		cursor = page["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if pages != 3 || len(seen) != 7 {
		t.Errorf("got %d items in %d pages, want 7 in 3", len(seen), pages)
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("missing %s", id)
		}
	}
	all := b.must(http.StatusOK, "GET", "/v1/endpoints", "")
	if n := len(all["data"].([]any)); n != 9 {
		t.Errorf("unfiltered: got %d, want 9", n)
	}
	empty := b.must(http.StatusOK, "GET", "/v1/endpoints?tenant_id=", "")
	if n := len(empty["data"].([]any)); n != 1 {
		t.Errorf("tenant_id= (empty tenant): got %d, want 1", n)
	}
	for _, bad := range []string{"0", "-1", "501", "x", "1.5", ""} {
		checkError(t, b.do("GET", "/v1/endpoints?limit="+bad, ""), 422, hookd.EINVALID, "limit: must be an integer from 1 to 500")
	}
	b.must(http.StatusOK, "GET", "/v1/endpoints?limit=500", "")
}

func TestRotateSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created := b.must(http.StatusCreated, "POST", "/v1/endpoints", `{"url":"https://example.com"}`)
	id, first := created["id"].(string), created["secret"].(string)

	r1 := b.must(http.StatusOK, "POST", "/v1/endpoints/"+id+"/rotate-secret", "")
	second := r1["secret"].(string)
	if second == first || hookd.ValidateSecret(second) != nil {
		t.Fatalf("got new secret %q, want a valid one different from %q", second, first)
	}
	e, err := b.store.GetEndpoint(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.PreviousSecrets) != 1 || e.PreviousSecrets[0].Secret != first {
		t.Fatalf("got previous %+v, want the first secret", e.PreviousSecrets)
	}
	if grace := e.PreviousSecrets[0].ExpiresAt.Sub(e.UpdatedAt); grace != 24*time.Hour {
		t.Errorf("got grace %v, want 24h", grace)
	}
	if s := e.SigningSecrets(e.UpdatedAt.Add(time.Hour)); len(s) != 2 {
		t.Errorf("got %d signing secrets during grace, want 2", len(s))
	}

	// A given secret; the expired first one is dropped.
	b.advance(25 * time.Hour)
	third := hookd.NewSecret()
	r2 := b.must(http.StatusOK, "POST", "/v1/endpoints/"+id+"/rotate-secret", `{"secret":"`+third+`"}`)
	if r2["secret"] != third {
		t.Errorf("got %v, want the given secret", r2["secret"])
	}
	e, _ = b.store.GetEndpoint(context.Background(), id)
	if len(e.PreviousSecrets) != 1 || e.PreviousSecrets[0].Secret != second {
		t.Errorf("got previous %+v, want only the second secret", e.PreviousSecrets)
	}

	checkError(t, b.do("POST", "/v1/endpoints/"+id+"/rotate-secret", `{"secret":"nope"}`), 422, hookd.EINVALID, "secret: must start with")
	checkError(t, b.do("POST", "/v1/endpoints/"+id+"/rotate-secret", `{"secret":"`+third+`"}`), 422, hookd.EINVALID, "secret: must differ")
	checkError(t, b.do("POST", "/v1/endpoints/"+id+"/rotate-secret", `{"key":"x"}`), 400, hookd.EMALFORMED, `unknown field "key"`)
	checkError(t, b.do("POST", "/v1/endpoints/ep_missing/rotate-secret", ""), 404, hookd.ENOTFOUND, "")
	for range maxPreviousSecrets + 3 {
		b.must(http.StatusOK, "POST", "/v1/endpoints/"+id+"/rotate-secret", "")
	}
	e, _ = b.store.GetEndpoint(context.Background(), id)
	if len(e.PreviousSecrets) != maxPreviousSecrets {
		t.Errorf("got %d previous secrets, want the cap %d", len(e.PreviousSecrets), maxPreviousSecrets)
	}
}

func TestTestEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.endpoint(`{"url":"https://example.com","tenant_id":"acme","event_types":["order.created"]}`)
	other := b.endpoint(`{"url":"https://example.com/2","tenant_id":"acme"}`)
	got := b.must(http.StatusAccepted, "POST", "/v1/endpoints/"+id+"/test", "")
	if got["type"] != "hookd.test" || got["deliveries"] != 1.0 || got["tenant_id"] != "acme" {
		t.Errorf("got %v, want a hookd.test event with 1 delivery", got)
	}
	if p, _ := got["payload"].(map[string]any); p["message"] != "test event from hookd" {
		t.Errorf("got payload %v", got["payload"])
	}
	ds := b.deliveries(hookd.DeliveryFilter{EventID: got["id"].(string)})
	if len(ds) != 1 || ds[0].EndpointID != id {
		t.Errorf("got deliveries %+v, want one to %s only (not %s)", ds, id, other)
	}
	checkError(t, b.do("POST", "/v1/endpoints/ep_missing/test", ""), 404, hookd.ENOTFOUND, "")
	b.must(http.StatusOK, "PATCH", "/v1/endpoints/"+id, `{"disabled":true}`)
	checkError(t, b.do("POST", "/v1/endpoints/"+id+"/test", ""), 409, hookd.ECONFLICT, "is disabled")
}
