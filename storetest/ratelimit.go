package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// testClaimRateLimit checks the token bucket that ClaimDue keeps per
// rate-limited endpoint, on the capped and the uncapped claim: a full
// bucket of max(1, rate) tokens, one delivery per whole token, refill at
// the rate, no refill for a claim earlier than the last spend, and other
// endpoints' work claimed alongside.
func testClaimRateLimit(t *testing.T, open Opener) {
	for _, capped := range []int{0, 100} {
		name := "uncapped"
		if capped > 0 {
			name = "capped"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open)
			five := f.endpoint("a", func(e *hookd.Endpoint) { e.RateLimitPerSecond = 5 })
			half := f.endpoint("b", func(e *hookd.Endpoint) { e.RateLimitPerSecond = 0.5 })
			free := f.endpoint("c")
			var evs []hookd.NewEvent
			for range 40 {
				evs = append(evs, event("a", "x", t0))
			}
			for range 5 {
				evs = append(evs, event("b", "x", t0))
			}
			for range 3 {
				evs = append(evs, event("c", "x", t0.Add(time.Second)))
			}
			f.ingest(evs...)
			now := t0.Add(time.Minute)
			steps := []struct {
				what string
				at   time.Time
				want map[string]int
			}{
				{"full buckets", now, map[string]int{five.ID: 5, half.ID: 1, free.ID: 3}},
				{"same instant", now, map[string]int{}},
				{"0.2 s later", now.Add(200 * time.Millisecond), map[string]int{five.ID: 1}},
				{"another 0.1 s", now.Add(300 * time.Millisecond), map[string]int{}},
				{"1.3 s later", now.Add(1300 * time.Millisecond), map[string]int{five.ID: 5}},
				{"earlier clock", now.Add(500 * time.Millisecond), map[string]int{}},
				{"2.3 s later", now.Add(2300 * time.Millisecond), map[string]int{five.ID: 5, half.ID: 1}},
				{"long idle: burst only", now.Add(time.Hour), map[string]int{five.ID: 5, half.ID: 1}},
			}
			for _, st := range steps {
				cs := f.claim(hookd.ClaimRequest{Owner: "n1", Now: st.at, Lease: 2 * time.Hour, Limit: 100, DefaultMaxInFlight: capped})
				got := countByEndpoint(cs)
				for _, id := range []string{five.ID, half.ID, free.ID} {
					if got[id] != st.want[id] {
						t.Fatalf("%s: got per endpoint 5/s=%d 0.5/s=%d free=%d, want %d %d %d", st.what,
							got[five.ID], got[half.ID], got[free.ID], st.want[five.ID], st.want[half.ID], st.want[free.ID])
					}
				}
			}
		})
	}
}

// testClaimRateLimitConcurrent checks that concurrent claimers (nodes)
// never spend the same tokens: six of them claim over 0.9 s of claim time,
// and together they get at most the burst plus the refill.
func testClaimRateLimitConcurrent(t *testing.T, open Opener) {
	for _, capped := range []int{0, 100} {
		name := "uncapped"
		if capped > 0 {
			name = "capped"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, open)
			f.endpoint("t", func(e *hookd.Endpoint) { e.RateLimitPerSecond = 5 })
			evs := make([]hookd.NewEvent, 200)
			for i := range evs {
				evs[i] = event("t", "x", t0)
			}
			f.ingest(evs...)
			now := t0.Add(time.Minute)
			var (
				mu    sync.Mutex
				total int
				seen  = map[string]bool{}
				wg    sync.WaitGroup
				errs  = make(chan error, 6)
			)
			for w := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range 10 {
						cs, err := f.s.ClaimDue(f.ctx, hookd.ClaimRequest{Owner: "w" + string(rune('a'+w)),
							Now: now.Add(time.Duration(k) * 100 * time.Millisecond), Lease: time.Hour, Limit: 7, DefaultMaxInFlight: capped})
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						total += len(cs)
						for _, c := range cs {
							if seen[c.Delivery.ID] {
								t.Errorf("delivery %s claimed twice", c.Delivery.ID)
							}
							seen[c.Delivery.ID] = true
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("ClaimDue: %v", err)
			}
			// Burst 5 + 0.9 s × 5/s = 9.5 tokens at most.
			if total < 5 || total > 9 {
				t.Errorf("got %d deliveries claimed in 0.9 s at 5/s, want 5 to 9", total)
			}
			// Whatever the interleaving, no token is spent twice and none is
			// lost: a claim at the same instant takes exactly what is left,
			// so the racers and it together get the 9 whole tokens. (A
			// racer may get fewer than its bucket held — it picks its
			// candidates before it locks the bucket, and another racer may
			// lease them first — but the tokens stay in the bucket.)
			late := f.claim(hookd.ClaimRequest{Owner: "late", Now: now.Add(900 * time.Millisecond), Limit: 100, DefaultMaxInFlight: capped})
			if got := total + len(late); got != 9 {
				t.Errorf("racers got %d, a claim at the same instant after them %d: together %d, want the 9 whole tokens of 0.9 s at 5/s", total, len(late), got)
			}
		})
	}
}
