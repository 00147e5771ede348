package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookd/hookd"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		got := b.must(http.StatusOK, "GET", path, "", "Authorization: ")
		if got["status"] != "ok" {
			t.Errorf("%s: got %v", path, got)
		}
	}
	down := setup(t, func(c *Config) { c.Ready = func(context.Context) error { return errors.New("db gone") } })
	checkError(t, down.do("GET", "/readyz", ""), http.StatusServiceUnavailable, "unavailable", "not ready")
	down.must(http.StatusOK, "GET", "/healthz", "")
	// The default Ready is the store's Ping.
	s := New(Config{Store: downStore{}, Logger: quiet})
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("readyz when Ping fails: got %d, want 503", w.Code)
	}
}

// downStore is a store whose Ping fails; nothing else is called.
type downStore struct{ Store }

func (downStore) Ping(context.Context) error { return hookd.Errorf(hookd.EUNAVAILABLE, "down") }

func TestMetricsMount(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hookd_up 1\n")) })
	})
	if w := b.do("GET", "/metrics", "", "Authorization: "); w.Code != 200 || w.Body.String() != "hookd_up 1\n" {
		t.Errorf("got %d %q", w.Code, w.Body)
	}
	if w := setup(t).do("GET", "/metrics", ""); w.Code != http.StatusNotFound {
		t.Errorf("without Metrics: got %d, want 404", w.Code)
	}
}

func TestUnknownRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	checkError(t, b.do("GET", "/v1/nothing", ""), http.StatusNotFound, "not_found", "no route")
	checkError(t, b.do("GET", "/", "", "Authorization: "), http.StatusNotFound, "not_found", "no route")
	w := b.do("PUT", "/v1/endpoints", "{}")
	checkError(t, w, http.StatusMethodNotAllowed, "method_not_allowed", "PUT is not allowed")
	if got := w.Header().Get("Allow"); got != "POST, GET, HEAD" {
		t.Errorf("got Allow %q", got)
	}
	checkError(t, b.do("DELETE", "/v1/events/batch", ""), http.StatusMethodNotAllowed, "method_not_allowed", "allowed: POST")
	checkError(t, b.do("GET", "/v1/events/batch", ""), http.StatusMethodNotAllowed, "method_not_allowed", "allowed: POST")
}

// TestErrorMapping checks the one table from error codes to statuses, and
// that an unexpected error is shown as "internal error" only.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		msg    string
	}{
		{hookd.Errorf(hookd.EMALFORMED, "m"), 400, "m"},
		{hookd.Errorf(hookd.EUNAUTHORIZED, "u"), 401, "u"},
		{hookd.Errorf(hookd.ENOTFOUND, "n"), 404, "n"},
		{hookd.Errorf(hookd.ECONFLICT, "c"), 409, "c"},
		{hookd.Errorf(hookd.ETOOLARGE, "t"), 413, "t"},
		{hookd.Errorf(hookd.EINVALID, "i"), 422, "i"},
		{hookd.Errorf(hookd.ERATELIMITED, "r"), 429, "r"},
		{hookd.Errorf(hookd.EUNAVAILABLE, "down"), 503, "down"},
		{errors.New("secret sql detail"), 500, "internal error"},
	}
	s := New(Config{Store: nil, Ready: func(context.Context) error { return nil }, Logger: quiet})
	for _, tt := range tests {
		w := httptest.NewRecorder()
		s.writeError(w, httptest.NewRequest("GET", "/", nil), tt.err)
		if w.Code != tt.status || !strings.Contains(w.Body.String(), `"message":"`+tt.msg+`"`) {
			t.Errorf("%v: got %d %s, want %d %q", tt.err, w.Code, w.Body, tt.status, tt.msg)
		}
		if strings.Contains(w.Body.String(), "secret sql") {
			t.Errorf("internal detail leaked: %s", w.Body)
		}
	}
}

func TestUnavailableStoreAnswers503(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Ingest = failingIngest{} })
	checkError(t, b.do("POST", "/v1/events", `{"type":"a","payload":{}}`), 503, hookd.EUNAVAILABLE, "database is locked")
}

type failingIngest struct{}

func (failingIngest) Submit(context.Context, []hookd.NewEvent) ([]hookd.IngestResult, error) {
	return nil, hookd.Errorf(hookd.EUNAVAILABLE, "database is locked")
}

// TestOpenAPI checks that the document parses, is OpenAPI 3.1 and
// describes every route of the route table with its responses.
func TestOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Metrics = http.NotFoundHandler() })
	w := b.do("GET", "/openapi.json", "", "Authorization: ")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("got %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("got openapi %q, want 3.1.0", doc.OpenAPI)
	}
	s := New(Config{Store: b.store, Metrics: http.NotFoundHandler(), Logger: quiet})
	documented := 0
	for _, rt := range s.routes() {
		rawOp, ok := doc.Paths[rt.path][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("%s %s is not in openapi.json", rt.method, rt.path)
			continue
		}
		var op map[string]any
		if err := json.Unmarshal(rawOp, &op); err != nil {
			t.Fatalf("%s %s: %v", rt.method, rt.path, err)
		}
		documented++
		if _, ok := op["responses"]; !ok {
			t.Errorf("%s %s has no responses", rt.method, rt.path)
		}
		sec, hasSec := op["security"]
		if public := hasSec && len(sec.([]any)) == 0; public != rt.access.public {
			t.Errorf("%s %s: documented public=%v, served public=%v", rt.method, rt.path, public, rt.access.public)
		}
	}
	// And nothing is documented that is not served.
	total := 0
	for path, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				total++
				if !s.serves(strings.ToUpper(m), path) {
					t.Errorf("openapi.json documents %s %s, which is not served", m, path)
				}
			}
		}
	}
	if total != documented {
		t.Errorf("got %d documented operations, %d served", total, documented)
	}
	// Every $ref resolves.
	var raw map[string]any
	json.Unmarshal(w.Body.Bytes(), &raw)
	checkRefs(t, raw, raw)
}

func (s *Server) serves(method, path string) bool {
	for _, rt := range s.routes() {
		if rt.method == method && rt.path == path {
			return true
		}
	}
	return false
}

func checkRefs(t *testing.T, root, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			var cur any = root
			for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
				m, _ := cur.(map[string]any)
				cur = m[part]
			}
			if cur == nil {
				t.Errorf("$ref %s does not resolve", ref)
			}
		}
		for _, x := range v {
			checkRefs(t, root, x)
		}
	case []any:
		for _, x := range v {
			checkRefs(t, root, x)
		}
	}
}
