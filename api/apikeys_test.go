package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	k := b.must(http.StatusCreated, "POST", "/v1/api-keys", `{"name":"billing","tenant_id":"acme","rate_limit_per_second":5}`)
	key, _ := k["key"].(string)
	if !strings.HasPrefix(key, "hk_") || len(key) < 40 || k["tenant_id"] != "acme" || k["rate_limit_per_second"] != 5.0 ||
		!strings.HasPrefix(k["id"].(string), hookd.PrefixAPIKey) || !strings.HasPrefix(key, k["hint"].(string)) {
		t.Fatalf("created key: got %v", k)
	}
	admin := b.must(http.StatusCreated, "POST", "/v1/api-keys", `{"name":"ops"}`)
	if admin["tenant_id"] != nil || admin["rate_limit_per_second"] != nil {
		t.Errorf("admin key: got tenant_id %v, rate %v; want null, null", admin["tenant_id"], admin["rate_limit_per_second"])
	}
	// The key is never shown again, nor stored in clear.
	w := b.do("GET", "/v1/api-keys", "")
	if w.Code != 200 || strings.Contains(w.Body.String(), key) || strings.Contains(w.Body.String(), `"key":`) {
		t.Errorf("list: got %d %s; want the keys without their secret", w.Code, w.Body)
	}
	stored, err := b.store.GetAPIKey(t.Context(), k["id"].(string))
	if err != nil || strings.Contains(string(stored.Hash[:]), key) {
		t.Fatalf("stored key: %v", err)
	}
	w = b.do("GET", "/v1/api-keys?tenant_id=acme", "")
	if !strings.Contains(w.Body.String(), k["id"].(string)) || strings.Contains(w.Body.String(), admin["id"].(string)) {
		t.Errorf("list of tenant acme: got %s", w.Body)
	}
	for _, c := range []struct{ body, field string }{
		{`{"name":"x","tenant_id":""}`, "tenant_id"},
		{`{"name":"x","rate_limit_per_second":-1}`, "rate_limit_per_second"},
		{`{"name":"` + strings.Repeat("n", 201) + `"}`, "name"},
		{`{"name":"a\u0000b"}`, "name"},
	} {
		checkError(t, b.do("POST", "/v1/api-keys", c.body), 422, hookd.EINVALID, c.field)
	}
	checkError(t, b.do("GET", "/v1/api-keys?kind=x", ""), 422, hookd.EINVALID, "kind")

	// The key works, then is revoked: refused at once on this node.
	b.must(http.StatusOK, "GET", "/v1/endpoints", "", "Authorization: Bearer "+key)
	b.must(http.StatusNoContent, "DELETE", "/v1/api-keys/"+k["id"].(string), "")
	checkError(t, b.doKey(key, "GET", "/v1/endpoints", ""), 401, hookd.EUNAUTHORIZED, "invalid API key")
	checkError(t, b.do("DELETE", "/v1/api-keys/"+k["id"].(string), ""), 404, hookd.ENOTFOUND, "not found")
	// The admin key made by the API is an admin key.
	b.must(http.StatusCreated, "POST", "/v1/api-keys", `{"name":"from ops"}`, "Authorization: Bearer "+admin["key"].(string))
}

func TestEndpointCaps(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxEndpointsPerTenant = 2; c.MaxEndpoints = 3 })
	key := b.tenantKey("acme")
	for range 2 {
		if w := b.doKey(key, "POST", "/v1/endpoints", `{"url":"https://example.com/h"}`); w.Code != 201 {
			t.Fatalf("create: got %d %s", w.Code, w.Body)
		}
	}
	checkError(t, b.doKey(key, "POST", "/v1/endpoints", `{"url":"https://example.com/h"}`), 409, hookd.ECONFLICT, "maximum of 2")
	b.endpoint(`{"url":"https://example.com/h","tenant_id":"other"}`)
	checkError(t, b.do("POST", "/v1/endpoints", `{"url":"https://example.com/h","tenant_id":"third"}`), 409, hookd.ECONFLICT, "--max-endpoints")
}

func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	var lim *auth.Limiter
	b := setup(t, func(c *Config) {
		lim = auth.NewLimiter(auth.LimiterOptions{Default: 100, Now: c.Now})
		c.Limiter = lim
	})
	key := b.must(http.StatusCreated, "POST", "/v1/api-keys", `{"name":"slow","tenant_id":"acme","rate_limit_per_second":3}`)["key"].(string)
	for i := range 3 {
		w := b.doKey(key, "GET", "/v1/endpoints", "")
		if w.Code != 200 || w.Header().Get("RateLimit-Limit") != "3" || w.Header().Get("RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Fatalf("request %d: got %d, RateLimit-Limit %q, RateLimit-Remaining %q", i+1, w.Code,
				w.Header().Get("RateLimit-Limit"), w.Header().Get("RateLimit-Remaining"))
		}
	}
	w := b.doKey(key, "GET", "/v1/endpoints", "")
	checkError(t, w, http.StatusTooManyRequests, hookd.ERATELIMITED, "rate limit")
	retry, err := strconv.Atoi(w.Header().Get("Retry-After"))
	if err != nil || retry < 1 || w.Header().Get("RateLimit-Remaining") != "0" || w.Header().Get("RateLimit-Reset") == "" {
		t.Fatalf("429 headers: got %v", w.Header())
	}
	b.advance(time.Duration(retry) * time.Second)
	if w := b.doKey(key, "GET", "/v1/endpoints", ""); w.Code != 200 {
		t.Fatalf("after Retry-After: got %d %s, want 200", w.Code, w.Body)
	}
	// A batch counts its events: 3 events when 2 tokens are left go
	// through into debt, and the next request waits.
	b.advance(10 * time.Second)
	batch := `{"events":[{"type":"x","payload":{}},{"type":"x","payload":{}},{"type":"x","payload":{}},{"type":"x","payload":{}}]}`
	if w := b.doKey(key, "POST", "/v1/events/batch", batch); w.Code != 202 {
		t.Fatalf("batch: got %d %s", w.Code, w.Body)
	}
	w = b.doKey(key, "GET", "/v1/endpoints", "")
	if w.Code != 429 {
		t.Fatalf("after a batch of 4 with a burst of 3: got %d, want 429", w.Code)
	}
	// Another key has its own bucket; the server default applies to it.
	if w := b.do("GET", "/v1/endpoints", ""); w.Code != 200 || w.Header().Get("RateLimit-Limit") != "100" {
		t.Errorf("admin key: got %d, RateLimit-Limit %q; want 200 and 100", w.Code, w.Header().Get("RateLimit-Limit"))
	}
}

// TestPortalLinkFlow: an admin makes a link; its holder gets a session
// that sees only its tenant; the link works once.
func TestPortalLinkFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.endpoint(`{"url":"https://example.com/acme-hook","tenant_id":"acme"}`)
	b.endpoint(`{"url":"https://example.com/other-hook","tenant_id":"other"}`)
	checkError(t, b.do("POST", "/v1/portal-links", `{"tenant_id":"nobody"}`), 404, hookd.ENOTFOUND, "nobody")
	checkError(t, b.do("POST", "/v1/portal-links", `{"tenant_id":"acme","expires_in":"48h"}`), 422, hookd.EINVALID, "expires_in")
	checkError(t, b.do("POST", "/v1/portal-links", `{}`), 422, hookd.EINVALID, "tenant_id")
	link := b.must(http.StatusCreated, "POST", "/v1/portal-links", `{"tenant_id":"acme","expires_in":"30m"}`)
	u, err := url.Parse(link["url"].(string))
	if err != nil || u.Path != auth.PortalPath || !strings.HasPrefix(u.Query().Get("token"), "hkp_") {
		t.Fatalf("got url %v, want %s?token=hkp_…", link["url"], auth.PortalPath)
	}
	exp, _ := time.Parse(time.RFC3339, link["expires_at"].(string))
	if d := time.Until(exp); d < 29*time.Minute || d > 31*time.Minute {
		t.Errorf("got expires_at %v, want in 30 min", exp)
	}

	// GET only shows the form: it does not use the link up.
	get := httptest.NewRecorder()
	b.handler.ServeHTTP(get, httptest.NewRequest("GET", u.RequestURI(), nil))
	if get.Code != 200 || !strings.Contains(get.Body.String(), `method="post"`) {
		t.Fatalf("GET link: got %d %s", get.Code, get.Body)
	}
	post := func(fetchSite string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", auth.PortalPath, strings.NewReader(url.Values{"token": {u.Query().Get("token")}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", fetchSite)
		}
		w := httptest.NewRecorder()
		b.handler.ServeHTTP(w, req)
		return w
	}
	redeem := func() *httptest.ResponseRecorder { return post("same-origin") }
	// Another site's page posting the link (login CSRF) is refused and
	// does not use the link up.
	if w := post("cross-site"); w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
		t.Fatalf("cross-site redeem: got %d %v, want 403 and no cookie", w.Code, w.Header())
	}
	w := redeem()
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/" {
		t.Fatalf("redeem: got %d %v", w.Code, w.Header())
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != auth.SessionCookie || !cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteLaxMode || cookies[0].Secure {
		t.Fatalf("session cookie: got %+v, want HttpOnly SameSite=Lax (not Secure without TLS)", cookies)
	}
	if again := redeem(); again.Code != http.StatusUnauthorized || !strings.Contains(again.Body.String(), "already used") {
		t.Errorf("second redeem: got %d %s, want 401 already used", again.Code, again.Body)
	}

	page := func(c *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/ui/", nil)
		if c != nil {
			req.AddCookie(c)
		}
		w := httptest.NewRecorder()
		b.handler.ServeHTTP(w, req)
		return w
	}
	w = page(cookies[0])
	if w.Code != 200 || !strings.Contains(w.Body.String(), "acme-hook") || strings.Contains(w.Body.String(), "other-hook") {
		t.Errorf("portal page: got %d %s; want acme's endpoint only", w.Code, w.Body)
	}
	if w := page(nil); w.Code != http.StatusUnauthorized {
		t.Errorf("page without a session: got %d, want 401", w.Code)
	}
	// The session is not an API key, and it is listed (and revocable) with
	// the tenant's keys.
	checkError(t, b.doKey(cookies[0].Value, "GET", "/v1/endpoints", ""), 401, hookd.EUNAUTHORIZED, "invalid API key")
	list := b.must(200, "GET", "/v1/api-keys?tenant_id=acme&kind=session", "")
	data := list["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("sessions of acme: got %v", list)
	}
	b.must(http.StatusNoContent, "DELETE", "/v1/api-keys/"+data[0].(map[string]any)["id"].(string), "")
	if w := page(cookies[0]); w.Code != http.StatusUnauthorized {
		t.Errorf("page after revoking the session: got %d, want 401", w.Code)
	}
}
