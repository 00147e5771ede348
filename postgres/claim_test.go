package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// seed makes n due deliveries to e, one event each, created from at on.
func seed(t testing.TB, s *Store, e *hookd.Endpoint, n int, at time.Time) {
	t.Helper()
	evs := make([]hookd.NewEvent, n)
	for i := range evs {
		evs[i] = newEvent("a", e.TenantID, "", at.Add(time.Duration(i)*time.Millisecond))
		evs[i].OnlyEndpointID = e.ID
	}
	ingest(t, s, evs...)
}

func countBy(cs []hookd.Claim) map[string]int {
	m := map[string]int{}
	for _, c := range cs {
		m[c.Endpoint.ID]++
	}
	return m
}

func TestClaimDueRules(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	ok := newEndpoint(t, s, nil)
	open := newEndpoint(t, s, func(e *hookd.Endpoint) {
		e.Circuit = hookd.Circuit{State: hookd.CircuitOpen, OpenUntil: t0.Add(time.Hour)}
	})
	cooled := newEndpoint(t, s, func(e *hookd.Endpoint) {
		e.Circuit = hookd.Circuit{State: hookd.CircuitOpen, OpenUntil: t0}
	})
	excluded := newEndpoint(t, s, nil)
	for _, e := range []*hookd.Endpoint{ok, open, cooled, excluded} {
		seed(t, s, e, 2, t0.Add(-time.Second))
	}
	seed(t, s, ok, 1, t0.Add(time.Second)) // not due yet
	now := t0.Add(time.Millisecond)
	for _, capped := range []int{0, 16} {
		t.Run(fmt.Sprintf("cap=%d", capped), func(t *testing.T) {
			owner := fmt.Sprintf("n%d", capped)
			cs := claim(t, s, hookd.ClaimRequest{Owner: owner, Now: now, Limit: 100,
				ExcludeEndpoints: []string{excluded.ID}, DefaultMaxInFlight: capped})
			got := countBy(cs)
			want := map[string]int{ok.ID: 2, cooled.ID: 2}
			if len(got) != len(want) || got[ok.ID] != 2 || got[cooled.ID] != 2 {
				t.Fatalf("got claims per endpoint %v, want %v", got, want)
			}
			for i, c := range cs {
				if c.Delivery.LeaseOwner != owner || !c.Delivery.LeaseExpiresAt.Equal(now.Add(time.Minute).Truncate(time.Microsecond)) {
					t.Errorf("got lease %q until %v", c.Delivery.LeaseOwner, c.Delivery.LeaseExpiresAt)
				}
				if i > 0 && c.Delivery.NextAttemptAt.Before(cs[i-1].Delivery.NextAttemptAt) {
					t.Errorf("claims not oldest first at %d", i)
				}
				if c.Event == nil || c.Event.ID != c.Delivery.EventID {
					t.Errorf("claim %d has event %v, want %s", i, c.Event, c.Delivery.EventID)
				}
			}
			// Leased: a second claim finds nothing until the lease expires.
			if cs := claim(t, s, hookd.ClaimRequest{Owner: "x", Now: now, Limit: 100,
				ExcludeEndpoints: []string{excluded.ID}, DefaultMaxInFlight: capped}); len(cs) != 0 {
				t.Fatalf("got %d claims of leased deliveries, want 0", len(cs))
			}
			later := now.Add(2 * time.Minute)
			cs = claim(t, s, hookd.ClaimRequest{Owner: "rescuer", Now: later, Limit: 100,
				ExcludeEndpoints: []string{excluded.ID}, DefaultMaxInFlight: capped})
			// The not-yet-due one is due now, too.
			if got := len(cs); got != 5 {
				t.Fatalf("got %d claims after the lease expired, want 5", got)
			}
			ids := make([]string, len(cs))
			for i, c := range cs {
				ids[i] = c.Delivery.ID
			}
			if err := s.ReleaseDeliveries(context.Background(), "rescuer", ids); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A saturated endpoint with a large old backlog never starves the others,
// and the cap counts the leases of every owner.
func TestClaimCapAcrossOwners(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	hot := newEndpoint(t, s, func(e *hookd.Endpoint) { e.MaxInFlight = 3 })
	cold := newEndpoint(t, s, nil)
	seed(t, s, hot, 200, t0.Add(-time.Hour))
	seed(t, s, cold, 5, t0)
	now := t0.Add(time.Second)
	cs := claim(t, s, hookd.ClaimRequest{Owner: "a", Now: now, Limit: 6, DefaultMaxInFlight: 2})
	if got := countBy(cs); got[hot.ID] != 3 || got[cold.ID] != 2 {
		t.Fatalf("got %v, want 3 hot (its MaxInFlight) and 2 cold (the default cap)", got)
	}
	cs = claim(t, s, hookd.ClaimRequest{Owner: "b", Now: now, Limit: 10, DefaultMaxInFlight: 2})
	if len(cs) != 0 {
		t.Fatalf("got %v from another owner, want nothing (both endpoints saturated)", countBy(cs))
	}
	cs = claim(t, s, hookd.ClaimRequest{Owner: "b", Now: now, Limit: 10, DefaultMaxInFlight: 4})
	if got := countBy(cs); got[hot.ID] != 0 || got[cold.ID] != 2 {
		t.Fatalf("got %v with default cap 4, want 0 hot and 2 cold", got)
	}
}

// Concurrent claims never return the same delivery, and never exceed the
// cap together.
func TestClaimConcurrent(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true, MaxConns: 8})
	const endpoints, per, capN = 4, 40, 5
	for range endpoints {
		e := newEndpoint(t, s, nil)
		seed(t, s, e, per, t0)
	}
	now := t0.Add(time.Second)
	for _, capped := range []int{capN, 0} {
		t.Run(fmt.Sprintf("cap=%d", capped), func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]string{}
			var wg sync.WaitGroup
			at := now.Add(time.Duration(capped) * time.Hour) // earlier leases expired
			for w := range 6 {
				wg.Go(func() {
					owner := fmt.Sprintf("w%d", w)
					for range 5 {
						cs, err := s.ClaimDue(context.Background(), hookd.ClaimRequest{
							Owner: owner, Now: at, Lease: time.Minute, Limit: 7, DefaultMaxInFlight: capped})
						if err != nil {
							t.Error(err)
							return
						}
						mu.Lock()
						for _, c := range cs {
							if prev, dup := seen[c.Delivery.ID]; dup {
								t.Errorf("delivery %s claimed by %s and %s", c.Delivery.ID, prev, owner)
							}
							seen[c.Delivery.ID] = owner
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if capped > 0 && len(seen) > endpoints*capN {
				t.Fatalf("the racers got %d claimed, want at most %d (cap %d per endpoint)", len(seen), endpoints*capN, capN)
			}
			// A racer skips an endpoint another racer is claiming for (a
			// try-lock), so on a busy machine the racers may end below
			// the caps; one more claimer at the same instant then tops
			// every endpoint up to exactly its cap, never above.
			if capped > 0 {
				for _, c := range claim(t, s, hookd.ClaimRequest{Owner: "late", Now: at, Lease: time.Minute, Limit: 100, DefaultMaxInFlight: capped}) {
					if prev, dup := seen[c.Delivery.ID]; dup {
						t.Errorf("delivery %s claimed by %s and late", c.Delivery.ID, prev)
					}
					seen[c.Delivery.ID] = "late"
				}
				if len(seen) != endpoints*capN {
					t.Fatalf("got %d claimed, want exactly %d (cap %d per endpoint)", len(seen), endpoints*capN, capN)
				}
			}
		})
	}
}
