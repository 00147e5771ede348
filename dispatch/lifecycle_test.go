package dispatch

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
)

// blockingServer holds every request until release is closed.
func blockingServer(t *testing.T) (srv *httptest.Server, arrived *atomic.Int64, release chan struct{}) {
	t.Helper()
	arrived, release = new(atomic.Int64), make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv, arrived, release
}

func TestStopDrainsInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv, arrived, release := blockingServer(t)
	ep := e.endpoint(srv.URL, nil)
	var ids []string
	for range 3 {
		_, id := e.send(ep, "order.created", `{}`)
		ids = append(ids, id)
	}
	waitFor(t, "3 requests in flight", func() bool { return arrived.Load() == 3 })

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		stopped <- e.stop(ctx)
	}()
	// Stop must wait for the attempts: once it stopped claiming, it still
	// has not returned.
	waitFor(t, "claim loop stopped", func() bool {
		select {
		case <-e.d.loopDone:
			return true
		default:
			return false
		}
	})
	select {
	case err := <-stopped:
		t.Fatalf("stop returned %v with attempts in flight", err)
	default:
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("stop: got %v, want nil", err)
	}
	for _, id := range ids {
		d := e.delivery(id)
		if d.Status != hookd.StatusSucceeded || d.Attempts != 1 || d.LeaseOwner != "" {
			t.Errorf("delivery %s: got status=%s attempts=%d lease=%q, want succeeded, 1, none", id, d.Status, d.Attempts, d.LeaseOwner)
		}
	}
}

// An attempt that outlives the grace period is canceled and its delivery
// released for redelivery: that is not an error, and Stop says it in one
// warning with the count.
func TestStopGraceOverReleasesClaims(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	var logMu sync.Mutex
	e := newEnv(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{mu: &logMu, w: &logged}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	srv, arrived, release := blockingServer(t)
	t.Cleanup(func() { close(release) })
	ep := e.endpoint(srv.URL, nil)
	_, id := e.send(ep, "order.created", `{}`)
	waitFor(t, "request in flight", func() bool { return arrived.Load() == 1 })

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := e.stop(ctx); err != nil {
		t.Errorf("stop: got %v, want nil (the cut attempt is released, nothing is lost)", err)
	}
	d := e.delivery(id)
	if d.Status != hookd.StatusPending || d.Attempts != 0 || d.LeaseOwner != "" {
		t.Errorf("delivery: got status=%s attempts=%d lease=%q, want pending, 0 (no attempt spent), released", d.Status, d.Attempts, d.LeaseOwner)
	}
	logMu.Lock()
	out := logged.String()
	logMu.Unlock()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "released=1") {
		t.Errorf("log at warn and above: got %q, want one warning with released=1", out)
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestWakeStartsDeliveryAtOnce(t *testing.T) {
	t.Parallel()
	// With a one-minute poll, only Wake can start the delivery in time.
	e := newEnv(t, func(c *Config) { c.PollInterval = time.Minute })
	srv, n := statusServer(t, 200)
	ep := e.endpoint(srv.URL, nil)
	// Let the loop reach its wait first, so the wake is what moves it.
	waitFor(t, "first claim", func() bool { claims, _, _ := e.store.counts(); return claims > 0 })
	_, id := e.send(ep, "order.created", `{}`)
	e.waitStatus(id, hookd.StatusSucceeded)
	if n.Load() != 1 {
		t.Errorf("requests: got %d, want 1", n.Load())
	}
}

func TestRecorderRetriesStoreErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.store.failNextCompletes(3)
	srv, n := statusServer(t, 200)
	ep := e.endpoint(srv.URL, nil)
	_, id := e.send(ep, "order.created", `{}`)
	d := e.waitStatus(id, hookd.StatusSucceeded)
	if d.Attempts != 1 || n.Load() != 1 {
		t.Errorf("got %d attempts recorded, %d requests; want 1 and 1", d.Attempts, n.Load())
	}
	_, calls, _ := e.store.counts()
	if calls < 4 {
		t.Errorf("CompleteAttempts calls: got %d, want at least 4 (3 failures, 1 success)", calls)
	}
}

// TestLifecycle checks the hookd.Service contract: Stop before Start and
// twice returns nil, Start works once.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	testenv.CheckLifecycle(t, func(t *testing.T) hookd.Service {
		return New(newFaultStore(t), Config{PollInterval: 10 * time.Millisecond})
	})
}
