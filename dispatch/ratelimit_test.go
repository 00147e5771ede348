package dispatch

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestRateLimitAcrossDispatchers runs two dispatchers (two nodes) on one
// store: together they keep the endpoint's rate, because both spend the
// store's token bucket instead of a limiter each.
func TestRateLimitAcrossDispatchers(t *testing.T) {
	t.Parallel()
	s := newFaultStore(t)
	a := newEnvOn(t, s, s, func(c *Config) { c.Owner = "node-a" })
	b := newEnvOn(t, s, s, func(c *Config) { c.Owner = "node-b" })
	var (
		mu    sync.Mutex
		times []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	const rate = 20
	ep := a.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.RateLimitPerSecond = rate })
	start := time.Now()
	var ids []string
	for i := range 30 {
		_, id := a.send(ep, "order.created", `{}`)
		ids = append(ids, id)
		if i%2 == 0 {
			b.d.Wake()
		}
	}
	for _, id := range ids {
		a.waitStatus(id, hookd.StatusSucceeded)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != len(ids) {
		t.Fatalf("got %d requests, want %d (one per delivery)", len(times), len(ids))
	}
	// Burst 20, then one every 50 ms for both nodes together: request i
	// (0-based) no earlier than (i-19)*50 ms after the start.
	for i, at := range times {
		if min := time.Duration(i-rate+1) * time.Second / rate; at.Sub(start) < min-10*time.Millisecond {
			t.Errorf("request %d at %v, want no earlier than %v", i, at.Sub(start), min)
		}
	}
}

func TestNextTokenWait(t *testing.T) {
	t.Parallel()
	claim := func(rate float64) hookd.Claim {
		return hookd.Claim{Endpoint: &hookd.Endpoint{RateLimitPerSecond: rate}}
	}
	tests := []struct {
		name   string
		claims []hookd.Claim
		want   time.Duration
	}{
		{"none", nil, 0},
		{"unlimited", []hookd.Claim{claim(0)}, 0},
		{"one per second", []hookd.Claim{claim(1)}, time.Second},
		{"fastest wins", []hookd.Claim{claim(2), claim(10), claim(0)}, 100 * time.Millisecond},
		{"floor", []hookd.Claim{claim(1000)}, minRateWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := nextTokenWait(tt.claims); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
