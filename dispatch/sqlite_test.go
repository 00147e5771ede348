package dispatch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestSQLiteEndToEnd runs the main paths against the real SQLite store,
// with no wrapper counting or failing calls.
func TestSQLiteEndToEnd(t *testing.T) {
	t.Parallel()
	t.Run("retries then success", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		srv, _ := statusServer(t, 503, 500, 200)
		ep := e.endpoint(srv.URL, nil)
		_, id := e.send(ep, "order.created", `{"a":1}`)
		d := e.waitStatus(id, hookd.StatusSucceeded)
		var got []int
		for _, a := range e.attempts(id) {
			got = append(got, a.StatusCode)
		}
		if d.Attempts != 3 || !slices.Equal(got, []int{503, 500, 200}) {
			t.Errorf("got attempts=%d statuses=%v, want 3 and [503 500 200]", d.Attempts, got)
		}
	})
	t.Run("dead after max attempts", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		srv, _ := statusServer(t, 500)
		ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxAttempts = 2 })
		_, id := e.send(ep, "order.created", `{}`)
		if d := e.waitStatus(id, hookd.StatusDead); d.Attempts != 2 {
			t.Errorf("attempts: got %d, want 2", d.Attempts)
		}
	})
	t.Run("410 disables", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		srv, _ := statusServer(t, 410)
		ep := e.endpoint(srv.URL, nil)
		_, id := e.send(ep, "order.created", `{}`)
		e.waitStatus(id, hookd.StatusDead)
		got, err := e.store.GetEndpoint(context.Background(), ep.ID)
		if err != nil || !got.Disabled || got.DisabledReason == "" {
			t.Errorf("endpoint: got %+v, %v; want disabled with a reason", got, err)
		}
	})
	t.Run("max in flight", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		srv := newConcurrencyServer(t, 10*time.Millisecond)
		srv.fill = 2 // each event is sent alone: hold the first until the second is in flight
		ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxInFlight = 2 })
		var ids []string
		for range 12 {
			_, id := e.send(ep, "order.created", `{}`)
			ids = append(ids, id)
		}
		for _, id := range ids {
			e.waitStatus(id, hookd.StatusSucceeded)
		}
		if got := srv.peak.Load(); got != 2 {
			t.Errorf("peak concurrent requests: got %d, want 2", got)
		}
	})
	t.Run("circuit probe", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *Config) {
			c.Circuit = hookd.CircuitPolicy{Threshold: 2, Cooldown: 100 * time.Millisecond, MaxCooldown: 100 * time.Millisecond}
			c.Retry.MaxAttempts = 100
		})
		var healthy atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !healthy.Load() {
				w.WriteHeader(500)
			}
		}))
		t.Cleanup(srv.Close)
		ep := e.endpoint(srv.URL, nil)
		var ids []string
		for range 4 {
			_, id := e.send(ep, "order.created", `{}`)
			ids = append(ids, id)
		}
		waitFor(t, "circuit open", func() bool {
			got, err := e.store.GetEndpoint(context.Background(), ep.ID)
			return err == nil && got.Circuit.State == hookd.CircuitOpen
		})
		healthy.Store(true)
		for _, id := range ids {
			e.waitStatus(id, hookd.StatusSucceeded)
		}
	})
	t.Run("stop drains", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		srv, arrived, release := blockingServer(t)
		ep := e.endpoint(srv.URL, nil)
		_, id := e.send(ep, "order.created", `{}`)
		waitFor(t, "request in flight", func() bool { return arrived.Load() == 1 })
		stopped := make(chan error, 1)
		go func() { stopped <- e.stop(context.Background()) }()
		waitFor(t, "claim loop stopped", func() bool {
			select {
			case <-e.d.loopDone:
				return true
			default:
				return false
			}
		})
		close(release)
		if err := <-stopped; err != nil {
			t.Fatalf("stop: %v", err)
		}
		if d := e.delivery(id); d.Status != hookd.StatusSucceeded || d.Attempts != 1 {
			t.Errorf("delivery: got %s with %d attempts, want succeeded with 1", d.Status, d.Attempts)
		}
	})
}
