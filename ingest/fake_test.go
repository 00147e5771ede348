package ingest

import (
	"context"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// fakeStore implements the committer's Store (IngestEvents) in memory. It
// records each call's size, fails
// a whole call when any event targets a missing endpoint (as the real
// store does), and can be made unavailable or blocked.
type fakeStore struct {
	mu        sync.Mutex
	calls     []int // events per IngestEvents call
	keys      map[string]hookd.Event
	committed []string
	down      bool
	// gate, when non-nil, blocks IngestEvents until it receives or ctx ends.
	gate    chan struct{}
	entered chan struct{} // receives once per call entering IngestEvents
	// enteredEvents counts the events of every call that entered IngestEvents.
	enteredEvents int
	// commitTime simulates the duration of a durable commit (benchmarks).
	commitTime time.Duration
}

func newFakeStore() *fakeStore {
	return &fakeStore{keys: map[string]hookd.Event{}}
}

func (s *fakeStore) IngestEvents(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	s.mu.Lock()
	s.enteredEvents += len(events)
	s.mu.Unlock()
	if s.entered != nil {
		s.entered <- struct{}{}
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.commitTime > 0 {
		time.Sleep(s.commitTime) // simulated fsync, not a wait for a condition
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, len(events))
	if s.down {
		return nil, hookd.Errorf(hookd.EUNAVAILABLE, "database is down")
	}
	for _, e := range events {
		if e.OnlyEndpointID == "ep_missing" {
			return nil, hookd.Errorf(hookd.ENOTFOUND, "endpoint %s not found", e.OnlyEndpointID)
		}
	}
	seen := map[string]hookd.Event{}
	results := make([]hookd.IngestResult, len(events))
	for i, e := range events {
		if k := e.IdempotencyKey; k != "" {
			if orig, ok := s.keys[e.TenantID+"\x00"+k]; ok {
				results[i] = hookd.IngestResult{Event: orig, Duplicate: true}
				continue
			}
			if orig, ok := seen[e.TenantID+"\x00"+k]; ok {
				results[i] = hookd.IngestResult{Event: orig, Duplicate: true}
				continue
			}
			seen[e.TenantID+"\x00"+k] = e.Event
		}
		results[i] = hookd.IngestResult{Event: e.Event, Deliveries: 1}
	}
	for k, e := range seen {
		s.keys[k] = e
	}
	for _, r := range results {
		if !r.Duplicate {
			s.committed = append(s.committed, r.Event.ID)
		}
	}
	return results, nil
}

// IngestAndLease is IngestEvents: the fake leases nothing (see
// leasingStore in handover_test.go for one that does).
func (s *fakeStore) IngestAndLease(ctx context.Context, events []hookd.NewEvent, _ hookd.ClaimRequest) ([]hookd.IngestResult, []hookd.Claim, error) {
	res, err := s.IngestEvents(ctx, events)
	return res, nil, err
}

func (s *fakeStore) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}
