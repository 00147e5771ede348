package metrics_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/metrics"
	"github.com/hookd/hookd/sqlite"
)

// outageSource is a real store whose reads fail while down is set, as
// while the database is unreachable.
type outageSource struct {
	metrics.Source
	down       atomic.Bool
	ok, failed atomic.Int64 // refreshes that started up / down
}

func (s *outageSource) ListEndpoints(ctx context.Context, tenantID *string, page hookd.Page) ([]*hookd.Endpoint, string, error) {
	if s.down.Load() {
		s.failed.Add(1)
		return nil, "", hookd.Errorf(hookd.EUNAVAILABLE, "database unavailable")
	}
	s.ok.Add(1)
	// Up, reads are not cut by the refresh's timeout (one interval, short
	// here): only the outage may fail a refresh.
	return s.Source.ListEndpoints(context.WithoutCancel(ctx), tenantID, page)
}

func (s *outageSource) DeliveryCounts(ctx context.Context, tenantID *string) ([]hookd.EndpointDeliveryCounts, error) {
	return s.Source.DeliveryCounts(context.WithoutCancel(ctx), tenantID)
}

func (s *outageSource) ListAlerts(ctx context.Context) ([]hookd.Alert, error) {
	return s.Source.ListAlerts(context.WithoutCancel(ctx))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.b.String()), "\n")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRefresherLogsOncePerOutage: while the store fails, the gauge refresh
// logs one warning for the whole outage (not one per tick) and one info
// line when it recovers, with the count of failed refreshes; a second
// outage is reported again.
func TestRefresherLogsOncePerOutage(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	src := &outageSource{Source: store}
	var logged syncBuffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := metrics.New(0).NewRefresher(src, metrics.RefresherConfig{Interval: 2 * time.Millisecond, Logger: log})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop(context.Background()) })

	count := func(level, msg string) (n int, lines []string) {
		for _, l := range logged.lines() {
			if strings.Contains(l, "level="+level) && strings.Contains(l, msg) {
				n++
				lines = append(lines, l)
			}
		}
		return n, lines
	}
	failedRE := regexp.MustCompile(`failed_refreshes=(\d+)`)
	waitFor(t, "refreshes while the store is up", func() bool { return src.ok.Load() >= 3 })
	if n, _ := count("WARN", "refresh gauges"); n != 0 {
		t.Fatalf("warnings while the store is up: %d, want 0:\n%s", n, strings.Join(logged.lines(), "\n"))
	}
	for outage := 1; outage <= 2; outage++ {
		src.down.Store(true)
		before := src.failed.Load()
		waitFor(t, "20 failed refreshes", func() bool { return src.failed.Load() >= before+20 })
		if n, lines := count("WARN", "refresh gauges failed"); n != outage {
			t.Fatalf("outage %d: %d warnings after %d failed refreshes, want %d:\n%s", outage, n, src.failed.Load()-before, outage, strings.Join(lines, "\n"))
		}
		if n, _ := count("WARN", "database unavailable"); n != outage {
			t.Errorf("outage %d: the warning does not carry the error", outage)
		}
		src.down.Store(false)
		up := src.ok.Load()
		waitFor(t, "refreshes after the outage", func() bool { return src.ok.Load() >= up+3 })
		n, lines := count("INFO", "refresh gauges recovered")
		if n != outage {
			t.Fatalf("outage %d: %d recovery lines, want %d:\n%s", outage, n, outage, strings.Join(lines, "\n"))
		}
		m := failedRE.FindStringSubmatch(lines[outage-1])
		if got, _ := strconv.Atoi(m[1]); m == nil || got < 20 {
			t.Errorf("outage %d: recovery line %q, want failed_refreshes of at least 20", outage, lines[outage-1])
		}
		if n, _ := count("WARN", "refresh gauges"); n != outage {
			t.Errorf("outage %d: %d warnings in all, want %d", outage, n, outage)
		}
	}
}

// TestRefresherLifecycle: the Refresher follows hookd.Service (Stop safe
// before Start and twice, no Start after Stop or twice).
func TestRefresherLifecycle(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	testenv.CheckLifecycle(t, func(t *testing.T) hookd.Service {
		return metrics.New(0).NewRefresher(store, metrics.RefresherConfig{Interval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	})
}
