package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hookd/hookd"
)

// chromiumPath returns the Chromium binary for the browser tests: it skips
// without one on a developer machine and fails under CI (.ci/run installs
// the Debian package chromium).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("HOOKD_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (.ci/run installs the Debian package chromium)")
	}
	t.Skip("chromium is not installed: apt-get install chromium to run the browser tests")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile and returns a
// tab context; the browser ends with the test. JavaScript dialogs
// (confirmations) are accepted.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	// Chromium's helper processes may still write to the profile for a
	// moment after the browser exits, which makes t.TempDir's cleanup fail;
	// the profile gets its own folder, removed with a few retries.
	profile, err := os.MkdirTemp("", "hookd-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50; i++ {
			if err = os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s not removed: %v", profile, err)
	})
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return ctx
}

// do runs browser actions and fails the test on error.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

func textOf(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("browser: text of %s: %v", css, err)
	}
	return s
}

// waitText polls the text of css until it contains want.
func waitText(t *testing.T, ctx context.Context, d time.Duration, css, want string) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||""`, css)))
		if err == nil && strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s never showed %q (last: %q, err %v)", css, want, s, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shooter saves screenshots of pages in every variant.
type shooter struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	base string
}

var variants = []struct {
	name   string
	w, h   int64
	mobile bool
	dark   bool
}{
	{"desktop-light", 1280, 800, false, false},
	{"desktop-dark", 1280, 800, false, true},
	{"mobile-light", 375, 812, true, false},
	{"mobile-dark", 375, 812, true, true},
}

// shoot opens path in every variant and saves <name>-<variant>.png. ready
// is a CSS selector the page must show first.
func (s *shooter) shoot(name, path, ready string) {
	s.t.Helper()
	if s.dir == "" {
		return
	}
	for _, v := range variants {
		scheme := "light"
		if v.dark {
			scheme = "dark"
		}
		opts := []chromedp.EmulateViewportOption{chromedp.EmulatePortrait}
		if v.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		do(s.t, s.ctx, "emulate "+v.name,
			chromedp.EmulateViewport(v.w, v.h, opts...),
			chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
				_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
				return err
			}),
			chromedp.Navigate(s.base+path),
			chromedp.WaitVisible(chromedp.CSS(ready)),
		)
		png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			s.t.Fatalf("screenshot %s %s: %v", name, v.name, err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, name+"-"+v.name+".png"), png, 0o644); err != nil {
			s.t.Fatal(err)
		}
	}
	do(s.t, s.ctx, "reset emulation", chromedp.EmulateViewport(1280, 800))
}

// screenshotDir is $HOOKD_SCREENSHOT_DIR, or a new temporary folder that
// is kept (its path is logged).
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("HOOKD_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "hookd-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDashboardInBrowser drives the dashboard of the real server in
// headless Chromium: sign in, see an endpoint's health, open the dead
// letters, replay one and see it delivered; and saves screenshots of every
// page (desktop and 375 px, light and dark) from the SQLite run.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	chromiumPath(t)
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		dsn := db(t)
		var globexUp atomic.Bool
		orders := newReceiver(t, nil)
		billing := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
			if n%9 == 0 {
				return 503, nil, `{"error":"try later"}`
			}
			return 200, nil, `{"ok":true}`
		})
		globex := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
			if globexUp.Load() {
				return 200, nil, `{"received":true}`
			}
			return 500, nil, `{"error":"database is locked","request_id":"req_8f2a"}`
		})
		audit := newReceiver(t, func(received, int) (int, http.Header, string) {
			time.Sleep(40 * time.Millisecond)
			return 204, nil, ""
		})

		// A day of history, written through the store before the server starts.
		now := time.Now().UTC()
		cfg := testConfig(dsn)
		store, err := openStore(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		mk := func(tenant, url, desc string, types ...string) *hookd.Endpoint {
			ts := time.Now().UTC().Truncate(time.Microsecond)
			e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, ts), TenantID: tenant, URL: url, Description: desc,
				EventTypes: types, Secret: hookd.NewSecret(), CreatedAt: ts.Add(-48 * time.Hour), UpdatedAt: ts}
			if err := store.CreateEndpoint(context.Background(), e); err != nil {
				t.Fatal(err)
			}
			return e
		}
		epOrders := mk("acme", orders.URL+"/webhooks/orders", "Order events for the fulfilment service", "order.*")
		epBilling := mk("acme", billing.URL+"/hooks/billing", "Invoices → accounting", "invoice.*", "order.paid")
		epGlobex := mk("globex", globex.URL+"/api/webhooks", "Globex ERP <sync> (staging)")
		epAudit := mk("", audit.URL+"/audit", "Internal audit log")
		seedStart := time.Now()
		seedHistory(t, store, now, 20*time.Minute, map[*hookd.Endpoint]seedShape{
			epOrders: func(time.Duration) (float64, time.Duration, bool) { return 0.002, 38 * time.Millisecond, false },
			epBilling: func(age time.Duration) (float64, time.Duration, bool) {
				if age > 8*time.Hour && age < 11*time.Hour {
					return 0.35, 420 * time.Millisecond, false // an incident in the morning
				}
				return 0.03, 120 * time.Millisecond, false
			},
			epGlobex: func(age time.Duration) (float64, time.Duration, bool) {
				if age < 3*time.Hour {
					return 0.9, 900 * time.Millisecond, true // broken for three hours
				}
				return 0.01, 210 * time.Millisecond, false
			},
			epAudit: func(time.Duration) (float64, time.Duration, bool) { return 0, 45 * time.Millisecond, false },
		})
		store.Close()
		t.Logf("seeded a day of history in %s", time.Since(seedStart).Round(time.Millisecond))

		srv := startServer(t, dsn, func(c *config) { c.MaxAttempts = 2; c.AutoReplayInterval = 0 })
		// Live traffic: globex is down, so its deliveries die now.
		for i := range 3 {
			srv.sendEvent(map[string]any{"type": "order.created", "tenant_id": "acme", "payload": map[string]any{"order": 1000 + i}})
			// Sent as typed, so that the payload holds a literal <script>.
			if code, raw := srv.doRaw("POST", "/v1/events", fmt.Sprintf(`{"type":"order.created","tenant_id":"globex","payload":{"order":%d,"note":"<script>alert(1)</script>"}}`, 2000+i), nil); code != 202 {
				t.Fatalf("send event: %d %s", code, raw)
			}
		}
		waitFor(t, 20*time.Second, "globex's live deliveries to die", func() bool {
			return len(srv.deliveries("status=dead&endpoint_id="+epGlobex.ID+"&limit=500")) >= 3 &&
				len(srv.deliveries("status=pending&limit=500")) == 0
		})

		ctx := newBrowser(t)
		shots := &shooter{t: t, ctx: ctx, base: srv.URL}
		if strings.HasPrefix(dsn, "sqlite:") {
			shots.dir = screenshotDir(t)
			t.Logf("screenshots in %s", shots.dir)
		}

		// Signed out, the dashboard asks for a key.
		do(t, ctx, "open the dashboard", chromedp.Navigate(srv.URL+"/ui/"), chromedp.WaitVisible(chromedp.ID("key")))
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/ui/signin") {
			t.Fatalf("signed out /ui/ went to %s, want the sign-in page", loc)
		}
		shots.shoot("signin", "/ui/signin", "#key")
		do(t, ctx, "sign in",
			chromedp.SendKeys(chromedp.ID("key"), testAPIKey),
			chromedp.Submit(chromedp.ID("key")),
			chromedp.WaitVisible(chromedp.ID("endpoints")),
		)
		// The overview shows every endpoint with its health.
		table := textOf(t, ctx, "#endpoints")
		for _, want := range []string{epOrders.URL, epBilling.URL, epGlobex.URL, epAudit.URL} {
			if !strings.Contains(table, want) {
				t.Errorf("overview lacks %q:\n%s", want, table)
			}
		}
		shots.shoot("overview", "/ui/", "#endpoints")

		// An endpoint's health.
		do(t, ctx, "open globex's endpoint",
			chromedp.Navigate(srv.URL+"/ui/"),
			chromedp.WaitVisible(chromedp.ID("endpoints")),
			chromedp.Click(chromedp.CSS(`a[href="/ui/endpoints/`+epGlobex.ID+`"]`)),
			chromedp.WaitVisible(chromedp.ID("health-h")),
		)
		health := textOf(t, ctx, "main")
		for _, want := range []string{"Success rate", "Dead letters", "Recent attempts", "500", "Globex ERP <sync> (staging)"} {
			if !strings.Contains(health, want) {
				t.Errorf("endpoint page lacks %q", want)
			}
		}
		shots.shoot("endpoint", "/ui/endpoints/"+epGlobex.ID, "#health-h")

		// Dead letters: select one live dead letter, replay, see it delivered.
		globexUp.Store(true)
		live := srv.deliveries("status=dead&endpoint_id=" + epGlobex.ID + "&limit=1")[0]
		do(t, ctx, "open dead letters",
			chromedp.Navigate(srv.URL+"/ui/"),
			chromedp.Click(chromedp.CSS(`a[href="/ui/dead-letters"]`)),
			chromedp.WaitVisible(chromedp.ID("dead-form")),
		)
		shots.shoot("deadletters", "/ui/dead-letters?endpoint="+epGlobex.ID, "#dead-form")
		do(t, ctx, "select and replay",
			chromedp.Navigate(srv.URL+"/ui/dead-letters?endpoint="+epGlobex.ID),
			chromedp.WaitVisible(chromedp.ID("sel-"+live.ID)),
			chromedp.Click(chromedp.ID("sel-"+live.ID)),
			chromedp.Click(chromedp.CSS(`#dead-form button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-live="outcome"]`)),
		)
		waitText(t, ctx, 20*time.Second, `[data-live="outcome"]`, "delivered")
		out := textOf(t, ctx, `[data-live="outcome"]`)
		if !strings.Contains(out, live.ID) || !strings.Contains(out, "Requeued\n1") && !strings.Contains(out, "REQUEUED\n1") {
			t.Errorf("outcome page: %q, want the replayed delivery delivered", out)
		}
		waitFor(t, 10*time.Second, "the replayed delivery to succeed", func() bool {
			var d deliveryJSON
			srv.must(200, "GET", "/v1/deliveries/"+live.ID, nil, &d)
			return d.Status == "succeeded"
		})
		outcomeURL, _ := chromedp.Run(ctx, chromedp.Location())
		shots.shoot("outcome", strings.TrimPrefix(outcomeURL, srv.URL), `[data-live="outcome"]`)

		// Replay all of the endpoint: every dead letter is delivered.
		do(t, ctx, "replay all",
			chromedp.Navigate(srv.URL+"/ui/dead-letters?endpoint="+epGlobex.ID),
			chromedp.WaitVisible(chromedp.CSS(`.replay-all button`)),
			chromedp.Click(chromedp.CSS(`.replay-all button`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-live="outcome"]`)),
		)
		waitFor(t, 30*time.Second, "every dead letter of globex to be delivered", func() bool {
			return len(srv.deliveries("status=dead&endpoint_id="+epGlobex.ID+"&limit=500")) == 0 &&
				len(srv.deliveries("status=pending&limit=500")) == 0
		})

		// The event page: payload and every attempt.
		do(t, ctx, "open the event", chromedp.Navigate(srv.URL+"/ui/events/"+live.EventID), chromedp.WaitVisible(chromedp.ID("payload-h")))
		ev := textOf(t, ctx, "main")
		for _, want := range []string{"order.created", "<script>alert(1)</script>", "attempt 1", "attempt 3", "delivered"} {
			if !strings.Contains(ev, want) {
				t.Errorf("event page lacks %q:\n%s", want, ev)
			}
		}
		shots.shoot("event", "/ui/events/"+live.EventID, "#payload-h")

		// A portal link signs a customer into their tenant only.
		var link struct {
			URL string `json:"url"`
		}
		srv.must(201, "POST", "/v1/portal-links", map[string]any{"tenant_id": "acme"}, &link)
		do(t, ctx, "open the portal link", chromedp.Navigate(link.URL), chromedp.WaitVisible(chromedp.ID("endpoints")))
		portal := textOf(t, ctx, "main")
		if !strings.Contains(portal, epOrders.URL) || !strings.Contains(portal, epBilling.URL) ||
			strings.Contains(portal, epGlobex.URL) || strings.Contains(portal, epAudit.URL) || !strings.Contains(portal, "acme") {
			t.Errorf("portal overview shows more than tenant acme:\n%s", portal)
		}
		shots.shoot("portal", "/ui/", "#endpoints")
		if err := ctx.Err(); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
	})
}
