package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startListen runs `hookd listen args…` in-process on a random port until
// the test ends; it returns its URL and its output.
func startListen(t *testing.T, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runIO(ctx, append([]string{"listen", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), out, &errb)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("listen exited %d: %s", code, errb.String())
		}
	})
	re := regexp.MustCompile(`listening on (http://\S+)`)
	var url string
	waitFor(t, 5*time.Second, "listen to start", func() bool {
		m := re.FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	})
	return url, out
}

// TestListenForwardTo: hookd delivers to `hookd listen --forward-to`, which
// verifies the signature (secret fetched with --endpoint), forwards the
// request unchanged to the app and answers hookd with the app's status; a
// tampered delivery is answered 401 and never reaches the app, unless
// --accept-invalid.
func TestListenForwardTo(t *testing.T) {
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		srv := startServer(t, db(t), nil)
		app := newReceiver(t, func(r received, n int) (int, http.Header, string) {
			return http.StatusAccepted, http.Header{"X-App": {"yes"}}, "app got it"
		})
		// The endpoint must exist before listen fetches its secret; its URL
		// is pointed at listen's random port once that listens.
		ep := srv.createEndpoint(map[string]any{"url": "http://127.0.0.1:1/placeholder"})
		url, out := startListen(t, "--forward-to", app.URL+"/webhooks", "--endpoint", ep.ID,
			"--server", srv.URL, "--api-key", testAPIKey)
		srv.must(http.StatusOK, "PATCH", "/v1/endpoints/"+ep.ID, map[string]any{"url": url + "/hook"}, nil)

		ev := srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{"n": 1}})
		waitFor(t, 10*time.Second, "the app to get the delivery", func() bool { return app.count() == 1 })
		got := app.got()[0]
		if got.Header.Get("webhook-id") != ev.ID || got.Header.Get("webhook-signature") == "" || got.Header.Get("X-Signature") == "" {
			t.Errorf("forwarded headers: %v", got.Header)
		}
		if !verifyStandard(ep.Secret, got.Header, got.Body) {
			t.Errorf("forwarded request no longer verifies: body or headers changed")
		}
		var ds []deliveryJSON
		waitFor(t, 10*time.Second, "delivery succeeded", func() bool {
			ds = srv.deliveries("event_id=" + ev.ID + "&status=succeeded")
			return len(ds) == 1
		})
		if as := srv.attempts(ds[0].ID); as[0].StatusCode != http.StatusAccepted || as[0].ResponseBody != "app got it" {
			t.Errorf("hookd recorded %d %q, want the app's 202 and body", as[0].StatusCode, as[0].ResponseBody)
		}
		line := regexp.MustCompile(regexp.QuoteMeta(ev.ID) + ` order.created signature ok -> app answered 202 in \S+`)
		waitFor(t, 5*time.Second, "the delivery's line", func() bool { return line.MatchString(out.String()) })

		// A tampered delivery (same headers, other body): 401, not forwarded.
		tampered := bytes.Replace(got.Body, []byte(`"n":1`), []byte(`"n":2`), 1)
		req, _ := http.NewRequest("POST", url+"/hook", bytes.NewReader(tampered))
		req.Header = got.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || app.count() != 1 {
			t.Errorf("tampered: got %d and %d requests at the app, want 401 and 1", resp.StatusCode, app.count())
		}
		bad := regexp.MustCompile(regexp.QuoteMeta(ev.ID) + ` order.created signature INVALID \(.*\) -> answered 401`)
		waitFor(t, 5*time.Second, "the INVALID line", func() bool { return bad.MatchString(out.String()) })

		// --accept-invalid forwards it anyway; --status is never answered
		// to an invalid signature.
		lax, _ := startListen(t, "--forward-to", app.URL, "--secret", ep.Secret, "--accept-invalid")
		req, _ = http.NewRequest("POST", lax, bytes.NewReader(tampered))
		req.Header = got.Header.Clone()
		if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted || app.count() != 2 {
			t.Errorf("--accept-invalid: got %v %v and %d requests at the app, want 202 and 2", resp.StatusCode, err, app.count())
		}
		if err == nil {
			resp.Body.Close()
		}
		strict, _ := startListen(t, "--secret", ep.Secret, "--status", "200")
		req, _ = http.NewRequest("POST", strict, bytes.NewReader(tampered))
		req.Header = got.Header.Clone()
		if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("--status 200 with an invalid signature: got %v %v, want 401", resp.StatusCode, err)
		}
		if err == nil {
			resp.Body.Close()
		}

		// The app down: 502 to hookd, and the line says so.
		app.Close()
		srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{"n": 3}})
		waitFor(t, 10*time.Second, "the failed forward's line", func() bool {
			return strings.Contains(out.String(), "failed") && strings.Contains(out.String(), "answered 502")
		})
	})
}
