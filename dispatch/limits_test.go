package dispatch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// concurrencyServer counts concurrent requests and keeps the peak; each
// request is held for hold (simulated endpoint latency). With fill > 0 a
// request is first held until fill requests have been in flight at once
// (at most fillWait), so that a cap of fill is reached however slowly a
// loaded machine schedules the dispatcher: without it, 15 ms requests on
// a machine at load 15 under -race often never overlapped three times
// (TestMaxInFlight: "peak 2, want 3").
type concurrencyServer struct {
	*httptest.Server
	cur, peak, total atomic.Int64
	fill             int64
}

// fillWait bounds how long a request waits for the fill: past it, the
// request answers and the test sees the lower peak.
const fillWait = 10 * time.Second

func newConcurrencyServer(t *testing.T, hold time.Duration) *concurrencyServer {
	t.Helper()
	s := &concurrencyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := s.cur.Add(1)
		for p := s.peak.Load(); c > p && !s.peak.CompareAndSwap(p, c); p = s.peak.Load() {
		}
		for deadline := time.Now().Add(fillWait); s.fill > 0 && s.peak.Load() < s.fill && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		t := time.NewTimer(hold) // the endpoint's latency, not a wait for a condition
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		s.cur.Add(-1)
		s.total.Add(1)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		endpointMax int
		defaultMax  int
		want        int64
	}{
		{"endpoint cap", 3, 16, 3},
		{"default cap", 0, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *Config) { c.DefaultMaxInFlight = tt.defaultMax })
			srv := newConcurrencyServer(t, 15*time.Millisecond)
			srv.fill = tt.want
			ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxInFlight = tt.endpointMax })
			var ids []string
			for range 24 {
				_, id := e.send(ep, "order.created", `{}`)
				ids = append(ids, id)
			}
			for _, id := range ids {
				e.waitStatus(id, hookd.StatusSucceeded)
			}
			if got := srv.peak.Load(); got != tt.want {
				t.Errorf("peak concurrent requests: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSlowEndpointDoesNotDelayFast(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.Workers = 8
		c.DefaultMaxInFlight = 4
		c.AttemptTimeout = 30 * time.Second
	})
	release := make(chan struct{})
	var arrived atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	fast, _ := statusServer(t, 200)
	slowEp := e.endpoint(slow.URL, nil)
	fastEp := e.endpoint(fast.URL, nil)
	for range 20 {
		e.send(slowEp, "order.created", `{}`)
	}
	waitFor(t, "slow endpoint saturated", func() bool { return arrived.Load() == 4 })
	var ids []string
	for range 10 {
		_, id := e.send(fastEp, "order.created", `{}`)
		ids = append(ids, id)
	}
	for _, id := range ids {
		e.waitStatus(id, hookd.StatusSucceeded)
	}
	if got := arrived.Load(); got != 4 {
		t.Errorf("slow endpoint requests: got %d, want 4 (its cap)", got)
	}
	close(release)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.Workers = 2 })
	var (
		mu    sync.Mutex
		times []time.Time
	)
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	}))
	t.Cleanup(limited.Close)
	fast, _ := statusServer(t, 200)
	limitedEp := e.endpoint(limited.URL, func(ep *hookd.Endpoint) { ep.RateLimitPerSecond = 10 })
	fastEp := e.endpoint(fast.URL, nil)

	start := time.Now()
	var limitedIDs, fastIDs []string
	for range 15 {
		_, id := e.send(limitedEp, "order.created", `{}`)
		limitedIDs = append(limitedIDs, id)
	}
	for range 20 {
		_, id := e.send(fastEp, "order.created", `{}`)
		fastIDs = append(fastIDs, id)
	}
	for _, id := range fastIDs {
		e.waitStatus(id, hookd.StatusSucceeded)
	}
	for _, id := range limitedIDs {
		e.waitStatus(id, hookd.StatusSucceeded)
	}
	mu.Lock()
	defer mu.Unlock()
	// Burst 10, then one every 100 ms: request i (0-based) no earlier than
	// (i-9)*100 ms after the start.
	for i, at := range times {
		if min := time.Duration(i-9) * 100 * time.Millisecond; at.Sub(start) < min-10*time.Millisecond {
			t.Errorf("request %d at %v, want no earlier than %v", i, at.Sub(start), min)
		}
	}
}

func TestCircuitOpensAndProbes(t *testing.T) {
	t.Parallel()
	const cooldown = 150 * time.Millisecond
	e := newEnv(t, func(c *Config) {
		c.Circuit = hookd.CircuitPolicy{Threshold: 3, Cooldown: cooldown, MaxCooldown: cooldown}
		c.Retry = hookd.RetryPolicy{Base: 5 * time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxAttempts: 100}
	})
	var (
		healthy       atomic.Bool
		total, cur    atomic.Int64
		peakAfterOpen atomic.Int64 // while open and unhealthy
		opened        atomic.Bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := cur.Add(1)
		defer cur.Add(-1)
		total.Add(1)
		if opened.Load() && !healthy.Load() && c > peakAfterOpen.Load() {
			peakAfterOpen.Store(c)
		}
		if !healthy.Load() {
			w.WriteHeader(500)
		}
	}))
	t.Cleanup(srv.Close)
	ep := e.endpoint(srv.URL, nil)
	var ids []string
	for range 10 {
		_, id := e.send(ep, "order.created", `{}`)
		ids = append(ids, id)
	}
	circuit := func() hookd.Circuit {
		got, err := e.store.GetEndpoint(context.Background(), ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Circuit
	}
	waitFor(t, "circuit open", func() bool { return circuit().State == hookd.CircuitOpen })
	waitFor(t, "first attempts over", func() bool { return cur.Load() == 0 })
	opened.Store(true)
	base := total.Load()
	// While open, one probe per cool-down: wait for two failed probes.
	waitFor(t, "two probes", func() bool { return total.Load() >= base+2 && cur.Load() == 0 })
	if c := circuit(); c.State != hookd.CircuitOpen || c.Opens < 2 {
		t.Errorf("circuit after failed probes: got %+v, want open, opened at least twice", c)
	}
	healthy.Store(true)
	for _, id := range ids {
		e.waitStatus(id, hookd.StatusSucceeded)
	}
	if c := circuit(); c.State != hookd.CircuitClosed {
		t.Errorf("circuit after recovery: got %s, want closed", c.State)
	}
	if got := peakAfterOpen.Load(); got != 1 {
		t.Errorf("concurrent requests while open: got %d, want 1 (one probe at a time)", got)
	}
}
