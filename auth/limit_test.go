package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd/auth"
)

func rate(r float64) *float64 { return &r }

func TestLimiterLocal(t *testing.T) {
	t.Parallel()
	clk := newClock()
	l := auth.NewLimiter(auth.LimiterOptions{Default: 5, Now: clk.Now})
	p := auth.Principal{KeyID: "key_a"}
	ctx := context.Background()
	for i := range 5 {
		if d := l.Take(ctx, p, 1); !d.Allowed || d.Limit != 5 || d.Remaining != 4-i {
			t.Fatalf("request %d of the burst: got %+v, want allowed with %d remaining", i+1, d, 4-i)
		}
	}
	d := l.Take(ctx, p, 1)
	if d.Allowed || d.RetryAfter != 200*time.Millisecond || d.Remaining != 0 {
		t.Fatalf("6th request: got %+v, want refused, retry after 200ms", d)
	}
	clk.advance(d.RetryAfter)
	if d := l.Take(ctx, p, 1); !d.Allowed {
		t.Fatalf("after Retry-After: got %+v, want allowed", d)
	}
	// A batch larger than the burst passes and leaves the key in debt.
	clk.advance(time.Second)
	if d := l.Take(ctx, p, 20); !d.Allowed {
		t.Fatalf("batch of 20: got %+v, want allowed", d)
	}
	if d := l.Take(ctx, p, 1); d.Allowed || d.RetryAfter != 3200*time.Millisecond {
		t.Fatalf("after the batch: got %+v, want refused for 3.2 s (16 tokens of debt)", d)
	}
	// Own limits: 0 is unlimited, others win over the default.
	if d := l.Take(ctx, auth.Principal{KeyID: "key_b", RateLimit: rate(0)}, 1000); !d.Allowed || d.Limited {
		t.Errorf("key with limit 0: got %+v, want unlimited", d)
	}
	if d := l.Take(ctx, auth.Principal{KeyID: "key_c", RateLimit: rate(100)}, 1); d.Limit != 100 {
		t.Errorf("key with limit 100: got limit %d, want 100", d.Limit)
	}
}

// TestLimiterShared: two nodes share one bucket through the store. Over
// 3 s of a flood they let through at most burst + rate*3 s, and the store
// sees far fewer writes than requests.
func TestLimiterShared(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st := &countingStore{Store: openStore(t)}
	nodes := []*auth.Limiter{
		auth.NewLimiter(auth.LimiterOptions{Default: 20, Shared: st, Now: clk.Now}),
		auth.NewLimiter(auth.LimiterOptions{Default: 20, Shared: st, Now: clk.Now}),
	}
	p := auth.Principal{KeyID: "key_shared"}
	ctx := context.Background()
	allowed, requests := 0, 0
	for step := range 300 { // 3 s in steps of 10 ms, 4 requests per step per node
		for range 4 {
			for _, n := range nodes {
				requests++
				if n.Take(ctx, p, 1).Allowed {
					allowed++
				}
			}
		}
		if step < 299 {
			clk.advance(10 * time.Millisecond)
		}
	}
	// Burst 20 plus 20/s over 2.99 s; a node may drop tokens it held unused.
	if max := 20 + 20*2.99; float64(allowed) > max+1e-9 {
		t.Errorf("two nodes let %d requests through, want at most %.0f", allowed, max)
	}
	if allowed < 50 {
		t.Errorf("two nodes let only %d requests through, want close to 79", allowed)
	}
	// Each node takes a quarter of the burst (5 tokens) at a time; a node
	// that loses the race for a refill costs one take that writes nothing.
	if takes := st.takes.Load(); takes*3 > int64(allowed)*2 || takes*20 > int64(requests) {
		t.Errorf("got %d store takes for %d allowed requests (%d sent), want fewer than 2 per 3 allowed", takes, allowed, requests)
	}
	t.Logf("%d requests, %d allowed, %d store takes", requests, allowed, st.takes.Load())
}
