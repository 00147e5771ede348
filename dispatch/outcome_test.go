package dispatch

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/ssrf"
)

// statusServer answers the codes in order (then the last one forever) and
// counts requests.
func statusServer(t *testing.T, codes ...int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		w.WriteHeader(codes[min(i, len(codes)-1)])
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetriesThenSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, _ := statusServer(t, 500, 404, 200)
	ep := e.endpoint(srv.URL, nil)
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusSucceeded)
	if d.Attempts != 3 || d.LastStatusCode != 200 || d.LastError != "" {
		t.Errorf("delivery: got attempts=%d status=%d err=%q, want 3, 200, \"\"", d.Attempts, d.LastStatusCode, d.LastError)
	}
	as := e.attempts(id)
	var got []int
	for i, a := range as {
		got = append(got, a.StatusCode)
		if a.Number != i+1 {
			t.Errorf("attempt %d: got number %d", i, a.Number)
		}
	}
	if !slices.Equal(got, []int{500, 404, 200}) {
		t.Errorf("attempt statuses: got %v, want [500 404 200]", got)
	}
	if len(as) > 0 && as[0].Error != "HTTP 500 Internal Server Error" {
		t.Errorf("first attempt error: got %q, want %q", as[0].Error, "HTTP 500 Internal Server Error")
	}
}

func TestDeadAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, n := statusServer(t, 502)
	ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxAttempts = 3 })
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusDead)
	if d.Attempts != 3 || n.Load() != 3 {
		t.Errorf("got %d attempts recorded and %d requests, want 3 and 3", d.Attempts, n.Load())
	}
	select {
	case ev := <-e.ops:
		if ev.Type != EventDeliveryDead || ev.DeliveryID != id || ev.StatusCode != 502 || ev.EndpointURL != srv.URL {
			t.Errorf("op event: got %+v, want delivery.dead for %s with 502", ev, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery.dead event")
	}
}

func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, n := statusServer(t, 410)
	ep := e.endpoint(srv.URL, nil)
	_, id := e.send(ep, "order.created", `{}`)
	e.waitStatus(id, hookd.StatusDead)
	got, err := e.store.GetEndpoint(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Disabled || got.DisabledReason != "endpoint answered 410 Gone" {
		t.Errorf("endpoint: got disabled=%v reason=%q, want true, %q", got.Disabled, got.DisabledReason, "endpoint answered 410 Gone")
	}
	if n.Load() != 1 {
		t.Errorf("requests: got %d, want 1", n.Load())
	}
	select {
	case ev := <-e.ops:
		if ev.Type != EventEndpointDisabled || ev.EndpointID != ep.ID || ev.Reason == "" {
			t.Errorf("op event: got %+v, want endpoint.disabled for %s", ev, ep.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no endpoint.disabled event")
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		status   int
		header   func() string
		min, max time.Duration // of NextAttemptAt - StartedAt
	}{
		// Jitter is 0, so the plain backoff after attempt 1 is Base/2 = 1 s.
		{"429 seconds", 429, func() string { return "2" }, 2 * time.Second, 2 * time.Second},
		{"503 seconds", 503, func() string { return "3" }, 3 * time.Second, 3 * time.Second},
		{"503 date", 503, func() string { return time.Now().Add(4 * time.Second).UTC().Format(http.TimeFormat) }, 2900 * time.Millisecond, 4 * time.Second},
		{"429 capped", 429, func() string { return "86400" }, 10 * time.Second, 10 * time.Second},
		{"429 shorter than backoff", 429, func() string { return "0" }, time.Second, time.Second},
		{"500 ignores it", 500, func() string { return "3" }, time.Second, time.Second},
		{"429 malformed", 429, func() string { return "soon" }, time.Second, time.Second},
		{"429 date in the past", 429, func() string { return "Sun, 06 Nov 1994 08:49:37 GMT" }, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) {
				c.Jitter = func() float64 { return 0 }
				c.Retry.Base = 2 * time.Second
				c.Retry.MaxDelay = 10 * time.Second
			})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", tt.header())
				w.WriteHeader(tt.status)
			}))
			t.Cleanup(srv.Close)
			ep := e.endpoint(srv.URL, nil)
			_, id := e.send(ep, "order.created", `{}`)
			waitFor(t, "first attempt recorded", func() bool { return len(e.attempts(id)) >= 1 })
			d, a := e.delivery(id), e.attempts(id)[0]
			got := d.NextAttemptAt.Sub(a.StartedAt)
			if got < tt.min || got > tt.max {
				t.Errorf("next attempt after %v, want within [%v, %v]", got, tt.min, tt.max)
			}
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var followed atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/other", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ep := e.endpoint(srv.URL+"/hook", func(ep *hookd.Endpoint) { ep.MaxAttempts = 1 })
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusDead)
	if d.LastStatusCode != 307 || !strings.Contains(d.LastError, "redirects are not followed") {
		t.Errorf("got status %d error %q, want 307 and a redirect error", d.LastStatusCode, d.LastError)
	}
	if followed.Load() != 0 {
		t.Errorf("redirect target got %d requests, want 0", followed.Load())
	}
}

func TestResponseBodyTruncated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	// "a" then 2-byte runes: the 4 KiB limit falls inside a rune.
	big := "a" + strings.Repeat("é", 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		_, _ = w.Write([]byte(big))
	}))
	t.Cleanup(srv.Close)
	ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxAttempts = 1 })
	_, id := e.send(ep, "order.created", `{}`)
	e.waitStatus(id, hookd.StatusDead)
	got := e.attempts(id)[0].ResponseBody
	want := big[:hookd.MaxStoredResponse-1]
	if got != want || !utf8.ValidString(got) {
		t.Errorf("stored body: got %d bytes (valid=%v), want the first %d bytes", len(got), utf8.ValidString(got), len(want))
	}
}

func TestStoredBody(t *testing.T) {
	t.Parallel()
	max := hookd.MaxStoredResponse
	tests := []struct {
		name, in, want string
	}{
		{"short", "ok", "ok"},
		{"exact", strings.Repeat("x", max), strings.Repeat("x", max)},
		{"long ascii", strings.Repeat("x", max+10), strings.Repeat("x", max)},
		{"cut 3-byte rune", strings.Repeat("x", max-1) + "€", strings.Repeat("x", max-1)},
		{"cut 4-byte rune", strings.Repeat("x", max-2) + "😀", strings.Repeat("x", max-2)},
		{"whole rune at end", strings.Repeat("x", max-3) + "€" + "tail", strings.Repeat("x", max-3) + "€"},
		{"invalid bytes", "a\xff\xfeb", "a?b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storedBody([]byte(tt.in))
			if got != tt.want {
				t.Errorf("got %q (%d bytes), want %q (%d bytes)", trunc(got), len(got), trunc(tt.want), len(tt.want))
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 20 {
		return "…" + s[len(s)-20:]
	}
	return s
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.AttemptTimeout = 100 * time.Millisecond })
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxAttempts = 1 })
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusDead)
	if d.LastStatusCode != 0 || d.LastError != "timeout after 100ms" {
		t.Errorf("got status %d error %q, want 0 and %q", d.LastStatusCode, d.LastError, "timeout after 100ms")
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ep := e.endpoint("http://"+addr+"/hook?token=sekret", func(ep *hookd.Endpoint) { ep.MaxAttempts = 1 })
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusDead)
	if d.LastError != "connection refused" {
		t.Errorf("error: got %q, want %q", d.LastError, "connection refused")
	}
}

func TestSSRFRefusedAtConnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Guard = ssrf.Guard{} })
	srv, n := statusServer(t, 200)
	ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxAttempts = 1 })
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusDead)
	if d.LastError != ssrf.PublicMessage {
		t.Errorf("error: got %q, want %q (no address shown to callers)", d.LastError, ssrf.PublicMessage)
	}
	if n.Load() != 0 {
		t.Errorf("receiver got %d requests, want 0", n.Load())
	}
}

func TestTLSErrorRecorded(t *testing.T) {
	t.Parallel()
	// A TLS handshake under the race detector on a loaded machine took
	// over the env's 2 s attempt timeout (the error was then "timeout
	// after 2s"); this test is about the error text, so the handshake
	// gets time enough.
	e := newEnv(t, func(c *Config) { c.AttemptTimeout = 30 * time.Second })
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxAttempts = 1 })
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusDead)
	if d.LastError != "tls: certificate signed by unknown authority" {
		t.Errorf("error: got %q, want %q", d.LastError, "tls: certificate signed by unknown authority")
	}
}
