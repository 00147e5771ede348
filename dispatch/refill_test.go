package dispatch

import (
	"testing"

	"github.com/hookd/hookd"
)

// sharedStore is a faultStore that says other processes claim from it too.
type sharedStore struct{ *faultStore }

func (sharedStore) Exclusive() bool { return false }

// TestRefill checks that the recorder refills freed slots in its completion
// write on a store no other process claims from, and never on a shared one
// (where it would keep an endpoint's room from the other nodes); every
// delivery arrives either way.
func TestRefill(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		shared     bool
		wantRefill bool
	}{
		{name: "own store", shared: false, wantRefill: true},
		{name: "shared store", shared: true, wantRefill: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fs := newFaultStore(t)
			var store Store = fs
			if c.shared {
				store = sharedStore{fs}
			}
			e := newEnvOn(t, fs, store, nil)
			srv, n := statusServer(t, 200)
			ep := e.endpoint(srv.URL, func(ep *hookd.Endpoint) { ep.MaxInFlight = 2 })
			var ids []string
			for range 20 {
				_, id := e.send(ep, "order.created", `{}`)
				ids = append(ids, id)
			}
			for _, id := range ids {
				e.waitStatus(id, hookd.StatusSucceeded)
			}
			if n.Load() != 20 {
				t.Errorf("requests: got %d, want 20", n.Load())
			}
			_, _, refills := fs.counts()
			if (refills > 0) != c.wantRefill {
				t.Errorf("got %d refilling completion writes, want some: %v", refills, c.wantRefill)
			}
		})
	}
}
