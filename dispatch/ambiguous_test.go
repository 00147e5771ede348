package dispatch

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// committedButFailedStore's first claim takes its leases and then reports
// an error, as a connection lost during COMMIT does.
type committedButFailedStore struct {
	*faultStore
	failed atomic.Bool
}

func (s *committedButFailedStore) ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	cs, err := s.faultStore.ClaimDue(ctx, r)
	if err == nil && len(cs) > 0 && s.failed.CompareAndSwap(false, true) {
		return nil, errors.New("connection lost during commit")
	}
	return cs, err
}

// Exclusive false: the loop claims alone, as on Postgres.
func (s *committedButFailedStore) Exclusive() bool { return false }

// TestAmbiguousClaimReleased: a claim that committed but reported an error
// leaves leases nobody works on; the dispatcher releases them before its
// next claim, so the delivery goes out long before the lease would expire.
func TestAmbiguousClaimReleased(t *testing.T) {
	t.Parallel()
	fs := newFaultStore(t)
	store := &committedButFailedStore{faultStore: fs}
	e := newEnvOn(t, fs, store, func(c *Config) { c.Lease = time.Hour })
	srv, n := statusServer(t, 200)
	ep := e.endpoint(srv.URL, nil)
	_, id := e.send(ep, "order.created", `{}`)
	e.waitStatus(id, hookd.StatusSucceeded)
	if !store.failed.Load() {
		t.Fatal("the failing claim never happened; the test exercised nothing")
	}
	if n.Load() != 1 {
		t.Errorf("requests: got %d, want 1", n.Load())
	}
}
