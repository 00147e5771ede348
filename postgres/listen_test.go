package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// waitWakeup drains stale wake-ups, runs fn, and waits for a fresh one.
func waitWakeup(t *testing.T, s *Store, fn func()) {
	t.Helper()
	for drained := false; !drained; {
		select {
		case <-s.Wakeups():
		default:
			drained = true
		}
	}
	fn()
	select {
	case _, ok := <-s.Wakeups():
		if !ok {
			t.Fatal("wakeups closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up within 10 s")
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWakeups(t *testing.T) {
	t.Parallel()
	s, url := open(t, Options{})
	// A second node on the same database (and schema) produces the work.
	other, err := Open(context.Background(), url, Options{PollOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	e := newEndpoint(t, other, nil)
	waitFor(t, "listener", func() bool { return s.lpid.Load() != 0 })

	var dID string
	steps := []struct {
		name string
		fn   func()
	}{
		{"ingest", func() {
			res := ingest(t, other, newEvent("a", "", "", t0))
			if res[0].Deliveries != 1 {
				t.Fatalf("got %d deliveries, want 1", res[0].Deliveries)
			}
			ds, _, err := other.ListDeliveries(ctx, hookd.DeliveryFilter{EndpointID: e.ID})
			if err != nil {
				t.Fatal(err)
			}
			dID = ds[0].ID
		}},
		{"release", func() {
			claim(t, other, hookd.ClaimRequest{Owner: "o", Now: t0, Limit: 1})
			if err := other.ReleaseDeliveries(ctx, "o", []string{dID}); err != nil {
				t.Fatal(err)
			}
		}},
		{"retry", func() {
			if _, err := other.RetryDelivery(ctx, dID, t0); err != nil {
				t.Fatal(err)
			}
		}},
		{"replay", func() {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, `UPDATE deliveries SET status = 'dead'`); err != nil {
				t.Fatal(err)
			}
			if n, err := other.ReplayDead(ctx, hookd.ReplayFilter{EndpointID: e.ID}, t0); n != 1 || err != nil {
				t.Fatalf("replay: got %d %v, want 1", n, err)
			}
		}},
		{"reconnect after the listener is killed", func() {
			pid := s.lpid.Load()
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a new listener", func() bool { p := s.lpid.Load(); return p != 0 && p != pid })
		}},
		{"ingest after reconnect", func() { ingest(t, other, newEvent("a", "", "", t0)) }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) { waitWakeup(t, s, st.fn) })
	}
	s.Close()
	// Close returns once the listener has ended, so nothing is sent after
	// it; the channel may still hold the one wake-up it buffers, sent
	// before (the channel is per database, so another test's NOTIFY in
	// another schema wakes this store too). Past that, it must be closed.
	for i := 0; ; i++ {
		select {
		case _, ok := <-s.Wakeups():
			if !ok {
				return
			}
			if i == cap(s.Wakeups()) {
				t.Fatalf("Wakeups not closed by Close: received %d values after Close, more than the %d it buffers", i+1, cap(s.Wakeups()))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Wakeups not closed by Close")
		}
	}
}

func TestPollOnly(t *testing.T) {
	t.Parallel()
	s, _ := open(t, Options{PollOnly: true})
	if s.Wakeups() != nil {
		t.Fatal("got a Wakeups channel with PollOnly, want nil")
	}
}
