package ui

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/auth"
)

// deadDelivery ingests an event for endpoint ep and makes its delivery
// dead, as the dispatcher does after the last attempt.
func (b *bundle) deadDelivery(ep, typ string) (eventID, deliveryID string) {
	b.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	e, err := b.store.GetEndpoint(ctx, ep)
	if err != nil {
		b.t.Fatal(err)
	}
	res, err := b.store.IngestEvents(ctx, []hookd.NewEvent{{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now),
		TenantID: e.TenantID, Type: typ, Payload: []byte(`{"order":42,"note":"<b>hi</b>"}`), CreatedAt: now}, OnlyEndpointID: ep}})
	if err != nil {
		b.t.Fatal(err)
	}
	claims, err := b.store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "t", Now: now.Add(time.Second), Lease: time.Minute, Limit: 100})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range claims {
		if c.Event.ID != res[0].Event.ID {
			continue
		}
		err := b.store.CompleteAttempts(ctx, []hookd.Completion{{Owner: "t", Outcome: hookd.OutcomeDead,
			Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1, StartedAt: now.Add(time.Second), StatusCode: 500,
				Latency: 12 * time.Millisecond, ResponseBody: `{"error":"<script>boom</script>"}`, Error: ""}}}, hookd.DefaultCircuitPolicy)
		if err != nil {
			b.t.Fatal(err)
		}
		return res[0].Event.ID, c.Delivery.ID
	}
	b.t.Fatal("delivery not claimed")
	return "", ""
}

func TestSignInRequired(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ep := b.endpoint(map[string]any{"url": "https://example.com/hook"})
		br := b.browser()
		for _, path := range []string{"/ui/", "/ui/endpoints/" + ep, "/ui/dead-letters", "/ui/dead-letters/outcome?n=1", "/ui/events/evt_x"} {
			p := br.get(path)
			if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/ui/signin?next=") {
				t.Errorf("GET %s signed out: %d to %q, want 303 to the sign-in page", path, p.Code, p.Location)
			}
		}
		for _, path := range []string{"/ui/endpoints/" + ep + "/settings", "/ui/endpoints/" + ep + "/rotate", "/ui/endpoints/" + ep + "/test",
			"/ui/dead-letters/replay", "/ui/deliveries/dlv_x/retry"} {
			if p := br.post(path, url.Values{"csrf": {"guess"}}); p.Code != http.StatusUnauthorized {
				t.Errorf("POST %s signed out: %d, want 401", path, p.Code)
			}
		}
		e, _ := b.store.GetEndpoint(context.Background(), ep)
		if len(e.PreviousSecrets) != 0 {
			t.Errorf("a signed-out rotate changed the endpoint")
		}
	})
}

func TestSignInAndOut(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		br := b.browser()
		br.get("/ui/signin")
		if p := br.post("/ui/signin", url.Values{"key": {adminKey}}); p.Code != http.StatusForbidden {
			t.Errorf("sign in without the form's CSRF token: %d, want 403", p.Code)
		}
		p := br.post("/ui/signin", url.Values{"csrf": {br.csrf}, "key": {"hk_wrong"}})
		if p.Code != http.StatusUnauthorized || !strings.Contains(p.Body, "That API key is not valid") {
			t.Errorf("wrong key: %d %s", p.Code, p.Body)
		}
		br.get("/ui/signin")
		p = br.post("/ui/signin", url.Values{"csrf": {br.csrf}, "key": {adminKey}, "next": {"/ui/dead-letters"}})
		if p.Code != http.StatusSeeOther || p.Location != "/ui/dead-letters" {
			t.Fatalf("sign in: %d to %q", p.Code, p.Location)
		}
		var cookie *http.Cookie
		for _, c := range (&http.Response{Header: p.Header}).Cookies() {
			if c.Name == auth.SessionCookie {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/ui/" {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/ui/", cookie)
		}
		if strings.Contains(cookie.Value, adminKey) {
			t.Fatal("the session cookie holds the API key")
		}
		if p := br.get("/ui/"); p.Code != 200 || !strings.Contains(p.Body, "Sign out") {
			t.Fatalf("overview after sign in: %d", p.Code)
		}
		// An open redirect is refused.
		br2 := b.browser()
		br2.get("/ui/signin")
		if p := br2.post("/ui/signin", url.Values{"csrf": {br2.csrf}, "key": {adminKey}, "next": {"//evil.example/ui/"}}); p.Location != "/ui/" {
			t.Errorf("next=//evil.example: redirected to %q, want /ui/", p.Location)
		}
		// Sign-out needs the token, then ends the session.
		if p := br.post("/ui/signout", url.Values{}); p.Code != http.StatusForbidden {
			t.Errorf("sign out without CSRF token: %d, want 403", p.Code)
		}
		if p := br.form("/ui/signout"); p.Code != http.StatusSeeOther {
			t.Errorf("sign out: %d", p.Code)
		}
		if p := br.get("/ui/"); p.Code != http.StatusSeeOther {
			t.Errorf("overview after sign out: %d, want 303 to sign in", p.Code)
		}
		// The session is revoked in the store, not only forgotten by the
		// browser: its cookie replayed is no session.
		u, _ := url.Parse(b.srv.URL + "/ui/")
		br.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: cookie.Value, Path: "/ui/"}})
		if p := br.get("/ui/"); p.Code != http.StatusSeeOther {
			t.Errorf("signed-out session cookie replayed: %d, want 303 to sign in", p.Code)
		}
		// A tampered cookie is no session.
		br.c.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: cookie.Value[:len(cookie.Value)-2] + "xx", Path: "/ui/"}})
		if p := br.get("/ui/"); p.Code != http.StatusSeeOther {
			t.Errorf("tampered cookie: %d, want 303 to sign in", p.Code)
		}
	})
}

func TestFormsRefuseMissingCSRF(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ep := b.endpoint(map[string]any{"url": "https://example.com/hook"})
		_, dlv := b.deadDelivery(ep, "order.created")
		br := b.browser()
		br.signIn(adminKey)
		forms := map[string]url.Values{
			"/ui/endpoints/" + ep + "/settings": {"url": {"https://example.com/changed"}, "enabled": {"on"}},
			"/ui/endpoints/" + ep + "/rotate":   {},
			"/ui/endpoints/" + ep + "/test":     {},
			"/ui/dead-letters/replay":           {"action": {"selected"}, "id": {dlv}},
			"/ui/deliveries/" + dlv + "/retry":  {},
		}
		for path, f := range forms {
			if p := br.post(path, f); p.Code != http.StatusForbidden {
				t.Errorf("POST %s without token: %d, want 403", path, p.Code)
			}
			f.Set("csrf", "0000"+br.csrf[4:])
			if p := br.post(path, f); p.Code != http.StatusForbidden {
				t.Errorf("POST %s with a wrong token: %d, want 403", path, p.Code)
			}
		}
		ctx := context.Background()
		e, _ := b.store.GetEndpoint(ctx, ep)
		if e.URL != "https://example.com/hook" || len(e.PreviousSecrets) != 0 {
			t.Errorf("a refused form changed the endpoint: %+v", e)
		}
		if d, _ := b.store.GetDelivery(ctx, dlv); d.Status != hookd.StatusDead {
			t.Errorf("a refused replay requeued the delivery: %s", d.Status)
		}
		// A cross-site post is refused even with the token.
		req, _ := http.NewRequest("POST", b.srv.URL+"/ui/endpoints/"+ep+"/rotate", strings.NewReader("csrf="+br.csrf))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := br.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin post: %d, want 403", resp.StatusCode)
		}
	})
}

func TestUserStringsAreEscaped(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ep := b.endpoint(map[string]any{"url": "https://example.com/hook?a=1&b=<i>", "description": "<script>alert(1)</script>", "tenant_id": "t<1>"})
		evt, _ := b.deadDelivery(ep, "order.<em>created</em>")
		br := b.browser()
		br.signIn(adminKey)
		for _, path := range []string{"/ui/", "/ui/endpoints/" + ep, "/ui/dead-letters", "/ui/events/" + evt} {
			p := br.get(path)
			if p.Code != 200 {
				t.Fatalf("GET %s: %d", path, p.Code)
			}
			for _, raw := range []string{"<script>alert", "<script>boom", "<i>", "<em>", "<b>hi", "t<1>"} {
				if strings.Contains(p.Body, raw) {
					t.Errorf("GET %s shows %q unescaped", path, raw)
				}
			}
		}
		if p := br.get("/ui/endpoints/" + ep); !strings.Contains(p.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("endpoint page does not show the description as text")
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		store := open(t)
		b := setup(t, store)
		p := b.browser().get("/ui/signin")
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q: want frame-ancestors 'none' and script-src 'self'", csp)
		}
		if p.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("X-Frame-Options %q, want DENY", p.Header.Get("X-Frame-Options"))
		}
		b2 := setup(t, store, func(c *Config) { c.FrameAncestors = "https://app.example.com  https://*.example.org" })
		p = b2.browser().get("/ui/signin")
		if csp := p.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors https://app.example.com https://*.example.org") {
			t.Errorf("CSP %q: want the configured frame-ancestors", csp)
		}
		if p.Header.Get("X-Frame-Options") != "" {
			t.Errorf("X-Frame-Options set while framing is allowed")
		}
	})
}

func TestParseFrameAncestors(t *testing.T) {
	for in, want := range map[string]string{"": "'none'", "'none'": "'none'", "'self' https://a.example": "'self' https://a.example", "https:": "https:"} {
		if got, err := ParseFrameAncestors(in); err != nil || got != want {
			t.Errorf("ParseFrameAncestors(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"'none' 'self'", "a.example", "https://a; script-src *", "https://a,b", "'unsafe-inline'"} {
		if _, err := ParseFrameAncestors(bad); err == nil {
			t.Errorf("ParseFrameAncestors(%q) accepted", bad)
		}
	}
}
