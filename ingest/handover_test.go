package ingest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd"
)

// leasingStore adds IngestAndLease to fakeStore: it leases the first
// r.Limit new deliveries (one per new event), or fails after committing
// when failAfter is set (a connection lost during COMMIT).
type leasingStore struct {
	*fakeStore
	failAfter bool
}

func (s *leasingStore) IngestAndLease(ctx context.Context, events []hookd.NewEvent, r hookd.ClaimRequest) ([]hookd.IngestResult, []hookd.Claim, error) {
	res, err := s.IngestEvents(ctx, events)
	if err != nil {
		return nil, nil, err
	}
	if s.failAfter {
		return nil, nil, hookd.Errorf(hookd.EUNAVAILABLE, "connection lost during commit")
	}
	var cs []hookd.Claim
	for i := range res {
		if res[i].Deliveries > 0 && len(cs) < r.Limit {
			cs = append(cs, hookd.Claim{
				Delivery: &hookd.Delivery{ID: "dlv_" + res[i].Event.ID, EventID: res[i].Event.ID, LeaseOwner: r.Owner},
				Event:    &res[i].Event,
			})
		}
	}
	return res, cs, nil
}

// fakeDispatcher records reservations and handovers.
type fakeDispatcher struct {
	mu        sync.Mutex
	slots     int // free slots
	reserved  []int
	handed    []hookd.Claim
	failures  int
	unmatched int // Handover without a reservation
	open      int // reservations not yet handed over
}

func (d *fakeDispatcher) ReserveIngest(max int) (hookd.ClaimRequest, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := min(d.slots, max)
	if n == 0 {
		return hookd.ClaimRequest{}, false
	}
	d.slots -= n
	d.open++
	d.reserved = append(d.reserved, n)
	return hookd.ClaimRequest{Owner: "node-1", Limit: n}, true
}

func (d *fakeDispatcher) Handover(r hookd.ClaimRequest, cs []hookd.Claim, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open == 0 {
		d.unmatched++
	}
	d.open--
	if err != nil {
		d.failures++
		d.slots += r.Limit
		return
	}
	d.handed = append(d.handed, cs...)
	d.slots += r.Limit - len(cs)
}

// TestHandover checks lease at commit through the committer: the
// deliveries leased by the commit reach the dispatcher after the commit,
// OnCommit (the claim loop's wake-up) runs only when some new delivery was
// left for the claim path, and a failed commit ends its reservation as
// ambiguous.
func TestHandover(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		slots      int
		failAfter  bool
		events     int
		wantHanded int
		wantWakes  int64
		wantErr    bool
	}{
		{name: "room for all", slots: 64, events: 3, wantHanded: 3, wantWakes: 0},
		{name: "room for some", slots: 2, events: 3, wantHanded: 2, wantWakes: 1},
		{name: "no room: plain ingest", slots: 0, events: 3, wantHanded: 0, wantWakes: 1},
		{name: "failed commit", slots: 64, events: 1, failAfter: true, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			store := &leasingStore{fakeStore: newFakeStore(), failAfter: c.failAfter}
			disp := &fakeDispatcher{slots: c.slots}
			var wakes atomic.Int64
			cm := start(t, store, Config{OnCommit: func() { wakes.Add(1) }, Dispatcher: disp})
			var evs []hookd.NewEvent
			for i := range c.events {
				evs = append(evs, event(string(rune('a'+i))))
			}
			res, err := cm.Submit(context.Background(), evs)
			if (err != nil) != c.wantErr {
				t.Fatalf("Submit: got error %v, want error %v", err, c.wantErr)
			}
			if err == nil && len(res) != c.events {
				t.Fatalf("got %d results, want %d", len(res), c.events)
			}
			disp.mu.Lock()
			defer disp.mu.Unlock()
			if len(disp.handed) != c.wantHanded {
				t.Errorf("got %d claims handed over, want %d", len(disp.handed), c.wantHanded)
			}
			if got := wakes.Load(); got != c.wantWakes {
				t.Errorf("got %d OnCommit calls, want %d", got, c.wantWakes)
			}
			if disp.open != 0 || disp.unmatched != 0 {
				t.Errorf("got %d reservations open and %d handovers without one, want 0 and 0", disp.open, disp.unmatched)
			}
			if disp.slots != c.slots-len(disp.handed) {
				t.Errorf("got %d free slots after, want %d (each unused slot given back)", disp.slots, c.slots-len(disp.handed))
			}
			if c.failAfter && disp.failures != 1 {
				t.Errorf("got %d failed handovers, want 1", disp.failures)
			}
		})
	}
}
