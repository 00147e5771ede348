package ui

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestOverviewListsSearchesAndFilters(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		a := b.endpoint(map[string]any{"url": "https://alpha.example.com/hook", "tenant_id": "acme"})
		z := b.endpoint(map[string]any{"url": "https://zulu.example.com/hook", "tenant_id": "globex"})
		br := b.browser()
		br.signIn(adminKey)
		p := br.get("/ui/")
		for _, want := range []string{a, z, "alpha.example.com", "zulu.example.com", "acme", "globex"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("overview lacks %q", want)
			}
		}
		if p := br.get("/ui/?q=ZULU"); strings.Contains(p.Body, a) || !strings.Contains(p.Body, z) {
			t.Errorf("search by URL: want only zulu")
		}
		if p := br.get("/ui/?tenant=acme"); !strings.Contains(p.Body, "/ui/endpoints/"+a) || strings.Contains(p.Body, "/ui/endpoints/"+z) {
			t.Errorf("tenant filter: want only acme's endpoint")
		}
		if p := br.get("/ui/?q=nothing-matches"); !strings.Contains(p.Body, "No endpoint matches") {
			t.Errorf("empty search result not said")
		}
	})
}

func TestEndpointSettingsRotateAndTest(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ep := b.endpoint(map[string]any{"url": "https://example.com/hook", "description": "orders"})
		br := b.browser()
		br.signIn(adminKey)
		if p := br.get("/ui/endpoints/" + ep); p.Code != 200 || !strings.Contains(p.Body, "Recent attempts") || !strings.Contains(p.Body, `value="https://example.com/hook"`) {
			t.Fatalf("endpoint page: %d", p.Code)
		}
		// Save settings: every field of the form goes through PATCH.
		p := br.form("/ui/endpoints/"+ep+"/settings", "url", "https://example.com/v2", "description", "orders v2",
			"event_types", "order.created\norder.*", "rate_limit", "2.5", "max_attempts", "7")
		if p.Code != http.StatusSeeOther || !strings.Contains(p.Location, "ok=saved") {
			t.Fatalf("save settings: %d %s", p.Code, p.Body)
		}
		ctx := context.Background()
		e, _ := b.store.GetEndpoint(ctx, ep)
		if e.URL != "https://example.com/v2" || e.Description != "orders v2" || strings.Join(e.EventTypes, ",") != "order.created,order.*" ||
			e.RateLimitPerSecond != 2.5 || e.MaxAttempts != 7 || !e.Disabled {
			t.Errorf("after save: %+v (enabled unchecked, so disabled)", e)
		}
		if p := br.get(p.Location); !strings.Contains(p.Body, "Settings saved.") || !strings.Contains(p.Body, "This endpoint is disabled") {
			t.Errorf("saved page does not say it saved or that the endpoint is disabled")
		}
		// A bad value answers with the API's message, keeps what was typed, changes nothing.
		p = br.form("/ui/endpoints/"+ep+"/settings", "url", "ftp://example.com/x", "enabled", "on", "description", "typed")
		if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "url:") || !strings.Contains(p.Body, `value="typed"`) {
			t.Errorf("bad url: %d, want 422 with the API's url message and the typed values", p.Code)
		}
		p = br.form("/ui/endpoints/"+ep+"/settings", "url", "https://example.com/v2", "rate_limit", "fast")
		if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "rate_limit_per_second") {
			t.Errorf("bad rate limit: %d", p.Code)
		}
		if e2, _ := b.store.GetEndpoint(ctx, ep); e2.URL != "https://example.com/v2" || e2.Description != "orders v2" {
			t.Errorf("a refused form changed the endpoint: %+v", e2)
		}
		// Re-enable, then rotate: the old secret shows with its expiry.
		br.form("/ui/endpoints/"+ep+"/settings", "url", "https://example.com/v2", "enabled", "on")
		old := e.Secret
		p = br.form("/ui/endpoints/" + ep + "/rotate")
		if p.Code != http.StatusSeeOther {
			t.Fatalf("rotate: %d %s", p.Code, p.Body)
		}
		e, _ = b.store.GetEndpoint(ctx, ep)
		if e.Secret == old || len(e.PreviousSecrets) != 1 || e.PreviousSecrets[0].Secret != old {
			t.Fatalf("rotate did not keep the old secret signing: %+v", e.PreviousSecrets)
		}
		p = br.get(p.Location)
		if !strings.Contains(p.Body, "keeps signing until") || !strings.Contains(p.Body, e.PreviousSecrets[0].ExpiresAt.UTC().Format("2006-01-02 15:04:05 UTC")) {
			t.Errorf("rotated page does not show the grace period")
		}
		// Test event: lands on its event page with its delivery.
		p = br.form("/ui/endpoints/" + ep + "/test")
		if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/ui/events/evt_") {
			t.Fatalf("test event: %d to %q", p.Code, p.Location)
		}
		p = br.get(p.Location)
		if !strings.Contains(p.Body, "hookd.test") || !strings.Contains(p.Body, "Test event sent") || !strings.Contains(p.Body, "https://example.com/v2") {
			t.Errorf("test event page lacks the event or its delivery")
		}
		// Unknown endpoint: 404 page.
		if p := br.get("/ui/endpoints/ep_nope"); p.Code != 404 {
			t.Errorf("unknown endpoint: %d", p.Code)
		}
	})
}

var deliveryIDRE = regexp.MustCompile(`dlv_[0-9a-z]+`)

func TestDeadLettersReplay(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ep1 := b.endpoint(map[string]any{"url": "https://one.example.com/hook"})
		ep2 := b.endpoint(map[string]any{"url": "https://two.example.com/hook"})
		_, d1 := b.deadDelivery(ep1, "order.created")
		_, d2 := b.deadDelivery(ep1, "invoice.paid")
		_, d3 := b.deadDelivery(ep2, "order.created")
		br := b.browser()
		br.signIn(adminKey)
		p := br.get("/ui/dead-letters")
		for _, d := range []string{d1, d2, d3} {
			if !strings.Contains(p.Body, d) {
				t.Errorf("dead letters lack %s", d)
			}
		}
		if p := br.get("/ui/dead-letters?endpoint=" + ep1 + "&type=invoice.paid"); strings.Contains(p.Body, d1) || !strings.Contains(p.Body, d2) || strings.Contains(p.Body, d3) {
			t.Errorf("filter endpoint+type: want only %s", d2)
		}
		if p := br.get("/ui/dead-letters?since=2000-01-01T00:00&until=2000-01-02T00:00"); strings.Contains(p.Body, d1) {
			t.Errorf("time filter kept a delivery outside it")
		}
		if p := br.get("/ui/dead-letters?since=yesterday"); !strings.Contains(p.Body, "since: must be a date") {
			t.Errorf("bad time not explained")
		}
		// Replay selected: one requeued, the outcome follows it.
		p = br.form("/ui/dead-letters/replay", "action", "selected", "id", d3)
		if p.Code != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/ui/dead-letters/outcome?") {
			t.Fatalf("replay selected: %d %s", p.Code, p.Body)
		}
		ctx := context.Background()
		if d, _ := b.store.GetDelivery(ctx, d3); d.Status != hookd.StatusPending {
			t.Errorf("replayed delivery is %s, want pending", d.Status)
		}
		out := br.get(p.Location)
		if !strings.Contains(out.Body, d3) || !strings.Contains(out.Body, "Still pending") {
			t.Errorf("outcome page does not follow the replayed delivery")
		}
		// Replay all of an endpoint.
		p = br.form("/ui/dead-letters/replay", "action", "all", "endpoint", ep1)
		if p.Code != http.StatusSeeOther || !strings.Contains(p.Location, "n=2") {
			t.Fatalf("replay all: %d to %q", p.Code, p.Location)
		}
		for _, d := range []string{d1, d2} {
			if dd, _ := b.store.GetDelivery(ctx, d); dd.Status != hookd.StatusPending {
				t.Errorf("%s is %s after replay all, want pending", d, dd.Status)
			}
		}
		if got := deliveryIDRE.FindAllString(br.get(p.Location).Body, -1); !containsAll(got, d1, d2) {
			t.Errorf("outcome of replay all does not list %s and %s", d1, d2)
		}
		if p := br.form("/ui/dead-letters/replay", "action", "all"); p.Code != http.StatusUnprocessableEntity {
			t.Errorf("replay all without endpoint: %d, want 422", p.Code)
		}
		if p := br.form("/ui/dead-letters/replay", "action", "selected"); p.Code != http.StatusUnprocessableEntity {
			t.Errorf("replay of nothing selected: %d, want 422", p.Code)
		}
	})
}

func containsAll(have []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestEventPage(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ep := b.endpoint(map[string]any{"url": "https://example.com/hook"})
		evt, dlv := b.deadDelivery(ep, "order.created")
		br := b.browser()
		br.signIn(adminKey)
		p := br.get("/ui/events/" + evt)
		for _, want := range []string{"order.created", "&#34;order&#34;: 42", dlv, "attempt 1", "500", "Response body"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("event page lacks %q", want)
			}
		}
		p = br.form("/ui/deliveries/" + dlv + "/retry")
		if p.Code != http.StatusSeeOther || !strings.Contains(p.Location, evt) {
			t.Fatalf("retry: %d %q", p.Code, p.Location)
		}
		if d, _ := b.store.GetDelivery(context.Background(), dlv); d.Status != hookd.StatusPending {
			t.Errorf("retried delivery is %s", d.Status)
		}
		if p := br.get("/ui/events/evt_nope"); p.Code != 404 {
			t.Errorf("unknown event: %d", p.Code)
		}
	})
}

// TestTenantSessionIsConfined signs in as tenant acme and tries every page
// and form on globex's resources by editing the URL.
func TestTenantSessionIsConfined(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		store := open(t)
		b := setup(t, store)
		mine := b.endpoint(map[string]any{"url": "https://acme.example.com/hook", "tenant_id": "acme"})
		theirs := b.endpoint(map[string]any{"url": "https://globex.example.com/hook", "tenant_id": "globex"})
		myEvt, myDlv := b.deadDelivery(mine, "order.created")
		theirEvt, theirDlv := b.deadDelivery(theirs, "order.created")
		br := b.browser()
		br.signIn(b.tenantKey("acme"))
		for _, path := range []string{"/ui/", "/ui/dead-letters", "/ui/?tenant=globex", "/ui/dead-letters?endpoint=" + mine} {
			p := br.get(path)
			if p.Code != 200 || strings.Contains(p.Body, theirs) || strings.Contains(p.Body, "globex") || strings.Contains(p.Body, theirDlv) {
				t.Errorf("GET %s as acme: %d, shows globex's resources", path, p.Code)
			}
		}
		if p := br.get("/ui/"); !strings.Contains(p.Body, mine) {
			t.Errorf("acme does not see its own endpoint")
		}
		if p := br.get("/ui/dead-letters"); !strings.Contains(p.Body, myDlv) {
			t.Errorf("acme does not see its own dead letter")
		}
		if p := br.get("/ui/events/" + myEvt); p.Code != 200 {
			t.Errorf("acme's own event: %d", p.Code)
		}
		for _, path := range []string{"/ui/endpoints/" + theirs, "/ui/events/" + theirEvt, "/ui/dead-letters/outcome?n=1&id=" + theirDlv} {
			p := br.get(path)
			if strings.Contains(p.Body, "globex.example.com") || (p.Code != 404 && !strings.HasPrefix(path, "/ui/dead-letters/outcome")) {
				t.Errorf("GET %s as acme: %d, want 404 without globex's data", path, p.Code)
			}
		}
		if p := br.get("/ui/dead-letters?endpoint=" + theirs); strings.Contains(p.Body, theirDlv) || !strings.Contains(p.Body, "not found") {
			t.Errorf("dead letters filtered on globex's endpoint: shows it or does not refuse")
		}
		forms := []struct {
			path string
			kv   []string
		}{
			{"/ui/endpoints/" + theirs + "/settings", []string{"url", "https://evil.example/x", "enabled", "on"}},
			{"/ui/endpoints/" + theirs + "/rotate", nil},
			{"/ui/endpoints/" + theirs + "/test", nil},
			{"/ui/deliveries/" + theirDlv + "/retry", nil},
			{"/ui/dead-letters/replay", []string{"action", "all", "endpoint", theirs}},
		}
		for _, f := range forms {
			if p := br.form(f.path, f.kv...); p.Code != 404 {
				t.Errorf("POST %s as acme: %d, want 404", f.path, p.Code)
			}
		}
		// Selected replay of globex's id counts nothing and requeues nothing.
		p := br.form("/ui/dead-letters/replay", "action", "selected", "id", theirDlv)
		if p.Code != http.StatusSeeOther || !strings.Contains(p.Location, "n=0") {
			t.Errorf("replay of globex's delivery as acme: %d %q, want n=0", p.Code, p.Location)
		}
		ctx := context.Background()
		e, _ := store.GetEndpoint(ctx, theirs)
		if e.URL != "https://globex.example.com/hook" || len(e.PreviousSecrets) != 0 {
			t.Errorf("acme changed globex's endpoint: %+v", e)
		}
		if d, _ := store.GetDelivery(ctx, theirDlv); d.Status != hookd.StatusDead {
			t.Errorf("acme requeued globex's delivery: %s", d.Status)
		}
		evs, _, _ := store.ListEvents(ctx, hookd.EventFilter{Type: "hookd.test"})
		if len(evs) != 0 {
			t.Errorf("acme sent a test event to globex's endpoint")
		}
	})
}

// TestPortalLinkSession redeems a portal link (11's exchange at
// /ui/portal) and uses the dashboard as that tenant: only its endpoints,
// and a replay confined to it.
func TestPortalLinkSession(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		mine := b.endpoint(map[string]any{"url": "https://acme.example.com/hook", "tenant_id": "acme"})
		theirs := b.endpoint(map[string]any{"url": "https://globex.example.com/hook", "tenant_id": "globex"})
		_, myDlv := b.deadDelivery(mine, "order.created")
		_, theirDlv := b.deadDelivery(theirs, "order.created")
		var link struct{ URL string }
		if code := b.apiDo("POST", "/v1/portal-links", map[string]any{"tenant_id": "acme"}, &link); code != 201 {
			t.Fatalf("portal link: %d", code)
		}
		u, err := url.Parse(link.URL)
		if err != nil || u.Path != "/ui/portal" {
			t.Fatalf("portal link %q", link.URL)
		}
		br := b.browser()
		if p := br.get(u.RequestURI()); p.Code != 200 {
			t.Fatalf("open portal link: %d", p.Code)
		}
		p := br.post("/ui/portal", url.Values{"token": {u.Query().Get("token")}})
		if p.Code != http.StatusSeeOther || p.Location != "/ui/" {
			t.Fatalf("redeem portal link: %d to %q", p.Code, p.Location)
		}
		p = br.get("/ui/")
		if p.Code != 200 || !strings.Contains(p.Body, mine) || strings.Contains(p.Body, theirs) || !strings.Contains(p.Body, "Tenant <b>acme</b>") {
			t.Fatalf("portal overview: %d, want acme's endpoint only and the tenant shown", p.Code)
		}
		if strings.Contains(p.Body, `id="tenant"`) {
			t.Errorf("a portal session is offered a tenant filter")
		}
		if p := br.get("/ui/endpoints/" + theirs); p.Code != 404 {
			t.Errorf("globex's endpoint from acme's portal: %d, want 404", p.Code)
		}
		if p := br.get("/ui/dead-letters"); !strings.Contains(p.Body, myDlv) || strings.Contains(p.Body, theirDlv) {
			t.Errorf("portal dead letters: want acme's only")
		}
		if p := br.form("/ui/dead-letters/replay", "action", "selected", "id", myDlv, "id", theirDlv); p.Code != http.StatusSeeOther || !strings.Contains(p.Location, "n=1") {
			t.Errorf("portal replay of its own and globex's: %d %q, want n=1", p.Code, p.Location)
		}
		ctx := context.Background()
		if d, _ := b.store.GetDelivery(ctx, theirDlv); d.Status != hookd.StatusDead {
			t.Errorf("acme's portal requeued globex's delivery")
		}
		if d, _ := b.store.GetDelivery(ctx, myDlv); d.Status != hookd.StatusPending {
			t.Errorf("acme's portal did not requeue its own delivery: %s", d.Status)
		}
		// The link is single-use.
		if p := b.browser().post("/ui/portal", url.Values{"token": {u.Query().Get("token")}}); p.Code != http.StatusUnauthorized {
			t.Errorf("portal link used twice: %d, want 401", p.Code)
		}
	})
}

// TestOverviewShowsFiringAlertsAndBacklog: a firing alert is on top of the
// overview, pending and dead counts are on the endpoint's row, and a
// tenant does not see another tenant's alert or the overall one.
func TestOverviewShowsFiringAlertsAndBacklog(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ep := b.endpoint(map[string]any{"url": "https://alerting.example.com/hook", "tenant_id": "globex"})
		b.deadDelivery(ep, "order.created")
		b.deadDelivery(ep, "order.created")
		ctx := context.Background()
		since := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Microsecond)
		for _, a := range []hookd.Alert{
			{Key: ep, Scope: hookd.AlertScopeEndpoint, EndpointID: ep, TenantID: "globex", Since: since, SuccessRate: 0.42, Attempts: 50, Failed: 29, UpdatedAt: since},
			{Key: hookd.AlertKeyOverall, Scope: hookd.AlertScopeOverall, Since: since, SuccessRate: 0.9, Attempts: 500, Failed: 50, UpdatedAt: since},
		} {
			if _, err := b.store.FireAlert(ctx, a, nil); err != nil {
				t.Fatal(err)
			}
		}
		br := b.browser()
		br.signIn(adminKey)
		p := br.get("/ui/")
		alerts := p.Body[strings.Index(p.Body, `data-live="alerts"`):strings.Index(p.Body, `data-live="summary"`)]
		if !strings.Contains(alerts, "Success rate 42%") || !strings.Contains(alerts, "alerting.example.com") || !strings.Contains(alerts, "Overall success rate 90%") {
			t.Errorf("alerts on top of the overview:\n%s", alerts)
		}
		if !strings.Contains(p.Body, `class="row-firing"`) || !strings.Contains(p.Body, `/ui/dead-letters?endpoint=`+ep+`">2</a>`) {
			t.Errorf("the endpoint's row is not marked firing with 2 dead letters")
		}
		tb := b.browser()
		tb.signIn(b.tenantKey("acme"))
		if p := tb.get("/ui/"); strings.Contains(p.Body, "42%") || strings.Contains(p.Body, "Overall success rate") {
			t.Errorf("acme sees globex's or the overall alert")
		}
	})
}

// TestOverviewSummaryLeavesOutOperationalDeliveries: the ops endpoint is
// listed, but its attempts and dead letters (hookd's own operational
// events) are not in the overview's overall figures.
func TestOverviewSummaryLeavesOutOperationalDeliveries(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		now := time.Now().UTC().Truncate(time.Microsecond)
		ops := &hookd.Endpoint{ID: hookd.OpsEndpointID, TenantID: hookd.SystemTenant, URL: "https://ops.example.com/hook",
			Secret: hookd.NewSecret(), CreatedAt: now, UpdatedAt: now}
		if err := b.store.CreateEndpoint(context.Background(), ops); err != nil {
			t.Fatal(err)
		}
		b.endpoint(map[string]any{"url": "https://alpha.example.com/hook", "tenant_id": "acme"})
		recordAttempt(t, b.store, ops, now.Add(-time.Minute), 500) // dead
		br := b.browser()
		br.signIn(adminKey)
		p := br.get("/ui/")
		if !strings.Contains(p.Body, "ops.example.com") {
			t.Errorf("the ops endpoint is not listed")
		}
		for _, want := range []string{
			`<span class="tile-label">Endpoints</span><span class="tile-value">1</span>`,
			`<span class="tile-label">Dead letters</span><span class="tile-value">0</span>`,
			`<span class="tile-sub">0 attempts</span>`,
		} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("summary lacks %s", want)
			}
		}
	})
}

// TestDeadLettersFilterInTheStore: the type and time filters reach the
// store, so a match older than thousands of other dead letters shows on
// the first page (the page used to scan at most 5,000), and a filtered
// list pages with the filter kept.
func TestDeadLettersFilterInTheStore(t *testing.T) {
	backends(t, func(t *testing.T, open func(t *testing.T) hookd.Store) {
		b := setup(t, open(t))
		ctx := context.Background()
		ep := b.endpoint(map[string]any{"url": "https://bulk.example.com/hook"})
		now := time.Now().UTC().Truncate(time.Microsecond)
		kill := func(typ string, n int, at time.Time) {
			t.Helper()
			evs := make([]hookd.NewEvent, n)
			for i := range evs {
				evs[i] = hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, at), Type: typ, Payload: []byte(`{}`), CreatedAt: at},
					OnlyEndpointID: ep}
			}
			if _, err := b.store.IngestEvents(ctx, evs); err != nil {
				t.Fatal(err)
			}
			for {
				cl, err := b.store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "t", Now: at.Add(time.Second), Lease: time.Minute, Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				if len(cl) == 0 {
					return
				}
				cs := make([]hookd.Completion, len(cl))
				for i, c := range cl {
					cs[i] = hookd.Completion{Owner: "t", Outcome: hookd.OutcomeDead, Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID,
						Number: 1, StartedAt: at.Add(time.Second), StatusCode: 500}}
				}
				if err := b.store.CompleteAttempts(ctx, cs, hookd.CircuitPolicy{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		kill("rare.x", 101, now.Add(-2*time.Hour))
		kill("common.y", 5100, now.Add(-time.Hour))
		br := b.browser()
		br.signIn(adminKey)
		p := br.get("/ui/dead-letters?type=rare.x")
		if n := strings.Count(p.Body, `name="id" value="dlv_`); n != 100 || !strings.Contains(p.Body, "cursor=") {
			t.Fatalf("type filter, first page: %d rows, pager %v; want 100 and a next page", n, strings.Contains(p.Body, "cursor="))
		}
		if strings.Contains(p.Body, "common.y") {
			t.Errorf("type filter shows another type")
		}
		next := regexp.MustCompile(`href="(/ui/dead-letters\?[^"]*cursor=[^"]*)"`).FindStringSubmatch(p.Body)
		if next == nil || !strings.Contains(next[1], "type=rare.x") {
			t.Fatalf("next page link %v lacks the filter", next)
		}
		if p := br.get(strings.ReplaceAll(next[1], "&amp;", "&")); strings.Count(p.Body, `name="id" value="dlv_`) != 1 || strings.Contains(p.Body, "cursor=") {
			t.Errorf("type filter, second page: want the last 1 row and no further page")
		}
		until := now.Add(-90 * time.Minute).Format("2006-01-02T15:04")
		if p := br.get("/ui/dead-letters?until=" + until); strings.Count(p.Body, `name="id" value="dlv_`) != 100 || strings.Contains(p.Body, "common.y") {
			t.Errorf("time filter: want 100 rows of rare.x only")
		}
	})
}
