package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
)

func event(id string) hookd.NewEvent {
	return hookd.NewEvent{Event: hookd.Event{ID: id, Type: "order.created", Payload: []byte(`{}`)}}
}

// start returns a running committer over store, stopped at cleanup.
func start(t *testing.T, store Store, cfg Config) *Committer {
	t.Helper()
	c := New(store, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

func TestSubmitConcurrent(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.gate = make(chan struct{})
	store.entered = make(chan struct{}, 1000)
	var commits atomic.Int64
	c := start(t, store, Config{OnCommit: func() { commits.Add(1) }})

	const n = 200
	var wg sync.WaitGroup
	// Hold the first commit until every other submission has queued, as
	// happens when a real fsync is slow: they must then share one commit.
	// The first commit may already hold more than one submission, so count
	// events: those queued plus those in the held commit must be all of them.
	go func() {
		defer close(store.gate)
		<-store.entered
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			c.mu.Lock()
			queued := 2 * len(c.queue)
			c.mu.Unlock()
			store.mu.Lock()
			held := store.enteredEvents
			store.mu.Unlock()
			if queued+held == 2*n {
				return
			}
			time.Sleep(time.Millisecond) // polling interval
		}
		t.Error("submissions did not all queue within 10s")
	}()
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ids := []string{fmt.Sprintf("evt_%03d_a", i), fmt.Sprintf("evt_%03d_b", i)}
			res, err := c.Submit(context.Background(), []hookd.NewEvent{event(ids[0]), event(ids[1])})
			if err != nil {
				errs <- err
				return
			}
			if len(res) != 2 {
				errs <- fmt.Errorf("submitter %d: got %d results, want 2", i, len(res))
				return
			}
			for j, r := range res {
				if r.Event.ID != ids[j] || r.Deliveries != 1 {
					errs <- fmt.Errorf("submitter %d result %d: got %s/%d, want %s/1", i, j, r.Event.ID, r.Deliveries, ids[j])
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	calls := store.callCount()
	if len(store.committed) != 2*n {
		t.Errorf("got %d committed events, want %d", len(store.committed), 2*n)
	}
	if calls != 2 {
		t.Errorf("got %d IngestEvents calls for %d submissions, want 2 (the first, then all queued ones)", calls, n)
	}
	if int(commits.Load()) != calls {
		t.Errorf("got %d OnCommit calls, want %d (one per commit)", commits.Load(), calls)
	}
	t.Logf("%d submissions committed in %d transactions", n, calls)
}

// TestGroupsQueuedSubmissions blocks the first commit so that later
// submissions queue, then checks they share exactly one transaction.
func TestGroupsQueuedSubmissions(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.gate = make(chan struct{})
	store.entered = make(chan struct{}, 100)
	c := start(t, store, Config{MaxBatch: 5})

	results := make(chan error, 10)
	submit := func(id string) {
		_, err := c.Submit(context.Background(), []hookd.NewEvent{event(id)})
		results <- err
	}
	go submit("evt_first")
	<-store.entered // the first commit is running and blocked
	for i := range 7 {
		go submit(fmt.Sprintf("evt_q%d", i))
	}
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 7
	})
	for range 3 {
		store.gate <- struct{}{}
	}
	for range 8 {
		if err := <-results; err != nil {
			t.Errorf("submit: %v", err)
		}
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if fmt.Sprint(store.calls) != "[1 5 2]" {
		t.Errorf("got calls of sizes %v, want [1 5 2] (MaxBatch 5)", store.calls)
	}
}

func TestErrorIsolation(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.gate = make(chan struct{})
	store.entered = make(chan struct{}, 100)
	c := start(t, store, Config{})

	type outcome struct {
		id  string
		err error
	}
	out := make(chan outcome, 10)
	submit := func(ev hookd.NewEvent) {
		_, err := c.Submit(context.Background(), []hookd.NewEvent{ev})
		out <- outcome{ev.ID, err}
	}
	go submit(event("evt_0"))
	<-store.entered
	bad := event("evt_bad")
	bad.OnlyEndpointID = "ep_missing"
	go submit(event("evt_1"))
	go submit(bad)
	go submit(event("evt_2"))
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 3
	})
	close(store.gate)
	for range 4 {
		o := <-out
		if o.id == "evt_bad" {
			if got := hookd.ErrorCode(o.err); got != hookd.ENOTFOUND {
				t.Errorf("bad submission: got code %q (%v), want %q", got, o.err, hookd.ENOTFOUND)
			}
		} else if o.err != nil {
			t.Errorf("%s: got %v, want no error", o.id, o.err)
		}
	}
	if len(store.committed) != 3 {
		t.Errorf("got %d committed events, want 3", len(store.committed))
	}
}

func TestUnavailableFailsEveryone(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.down = true
	c := start(t, store, Config{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := c.Submit(context.Background(), []hookd.NewEvent{event(fmt.Sprint("evt_", i))})
			if got := hookd.ErrorCode(err); got != hookd.EUNAVAILABLE {
				t.Errorf("got code %q (%v), want %q", got, err, hookd.EUNAVAILABLE)
			}
		})
	}
	wg.Wait()
	if n := store.callCount(); n > 20 {
		t.Errorf("got %d store calls, want at most 20 (no per-submission retry when unavailable)", n)
	}
}

func TestCancelWhileQueued(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.gate = make(chan struct{})
	store.entered = make(chan struct{}, 100)
	c := start(t, store, Config{})

	first := make(chan error, 1)
	go func() {
		_, err := c.Submit(context.Background(), []hookd.NewEvent{event("evt_first")})
		first <- err
	}()
	<-store.entered
	ctx, cancel := context.WithCancel(context.Background())
	queued := make(chan error, 1)
	go func() {
		_, err := c.Submit(ctx, []hookd.NewEvent{event("evt_cancelled")})
		queued <- err
	}()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 1
	})
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	close(store.gate)
	if err := <-first; err != nil {
		t.Errorf("first: %v", err)
	}
	// A later submission proves the withdrawn one was skipped, not committed.
	if _, err := c.Submit(context.Background(), []hookd.NewEvent{event("evt_after")}); err != nil {
		t.Fatalf("after: %v", err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if fmt.Sprint(store.committed) != "[evt_first evt_after]" {
		t.Errorf("got committed %v, want [evt_first evt_after]", store.committed)
	}
}

// TestCancelWhileCommitting checks that a submitter whose commit has begun
// waits for it, so an error never hides a commit.
func TestCancelWhileCommitting(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.gate = make(chan struct{})
	store.entered = make(chan struct{}, 100)
	c := start(t, store, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Submit(ctx, []hookd.NewEvent{event("evt_1")})
		done <- err
	}()
	<-store.entered
	cancel()
	close(store.gate)
	if err := <-done; err != nil {
		t.Errorf("got %v, want nil: the commit succeeded", err)
	}
}

func TestStopDrains(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.gate = make(chan struct{})
	store.entered = make(chan struct{}, 100)
	c := New(store, Config{})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 10)
	go func() {
		_, err := c.Submit(context.Background(), []hookd.NewEvent{event("evt_0")})
		errs <- err
	}()
	<-store.entered
	for i := range 5 {
		go func() {
			_, err := c.Submit(context.Background(), []hookd.NewEvent{event(fmt.Sprint("evt_q", i))})
			errs <- err
		}()
	}
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 5
	})
	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(context.Background()) }()
	waitFor(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.running
	})
	if _, err := c.Submit(context.Background(), []hookd.NewEvent{event("evt_late")}); hookd.ErrorCode(err) != hookd.EUNAVAILABLE {
		t.Errorf("submit after stop: got %v, want EUNAVAILABLE", err)
	}
	close(store.gate)
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Errorf("queued submission: got %v, want committed", err)
		}
	}
	if len(store.committed) != 6 {
		t.Errorf("got %d committed, want 6", len(store.committed))
	}
}

func TestStopDeadline(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	store.gate = make(chan struct{}) // never opened: the commit hangs
	store.entered = make(chan struct{}, 100)
	c := New(store, Config{})
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for i := range 2 {
		go func() {
			_, err := c.Submit(context.Background(), []hookd.NewEvent{event(fmt.Sprint("evt_", i))})
			errs <- err
		}()
	}
	<-store.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("stop: got %v, want context.Canceled", err)
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("got nil, want an error for an uncommitted submission")
		}
	}
}

func TestNotStarted(t *testing.T) {
	t.Parallel()
	c := New(newFakeStore(), Config{})
	if _, err := c.Submit(context.Background(), []hookd.NewEvent{event("evt_1")}); hookd.ErrorCode(err) != hookd.EUNAVAILABLE {
		t.Errorf("got %v, want EUNAVAILABLE", err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("stop: got %v, want nil", err)
	}
}

func TestDuplicateKeysInOneGroup(t *testing.T) {
	t.Parallel()
	store := newFakeStore()
	c := start(t, store, Config{})
	a, b := event("evt_a"), event("evt_b")
	a.IdempotencyKey, b.IdempotencyKey = "k", "k"
	res, err := c.Submit(context.Background(), []hookd.NewEvent{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if res[1].Event.ID != "evt_a" || !res[1].Duplicate {
		t.Errorf("got %+v, want a duplicate of evt_a", res[1])
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond) // polling interval, not a wait for the condition
	}
}

// BenchmarkSubmit measures the committer's overhead with a store whose
// commit takes 100µs (a stand-in for fsync) and reports events per commit.
func BenchmarkSubmit(b *testing.B) {
	store := newFakeStore()
	store.commitTime = 100 * time.Microsecond
	c := New(store, Config{})
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer c.Stop(context.Background())
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprint("evt_", n.Add(1))
			if _, err := c.Submit(context.Background(), []hookd.NewEvent{event(id)}); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/float64(store.callCount()), "events/commit")
}

// TestLifecycle checks the hookd.Service contract.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	testenv.CheckLifecycle(t, func(*testing.T) hookd.Service { return New(newFakeStore(), Config{}) })
}
