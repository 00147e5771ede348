package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hookd/hookd"
)

// DefaultMaxBatch is the default upper bound of events in one commit.
const DefaultMaxBatch = 1000

// Store is the part of hookd.Store the committer calls.
type Store interface {
	IngestEvents(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error)
	IngestAndLease(ctx context.Context, events []hookd.NewEvent, r hookd.ClaimRequest) ([]hookd.IngestResult, []hookd.Claim, error)
}

// Config configures a Committer. Every zero field means its default.
type Config struct {
	// MaxBatch bounds the events of one store.IngestEvents call (default
	// DefaultMaxBatch). A single submission larger than MaxBatch is
	// committed alone, never split.
	MaxBatch int
	// OnCommit, when set, is called after every successful commit that
	// left new deliveries for the dispatcher's claim path (all of them
	// without Dispatcher), from the committer's goroutine (the
	// dispatcher's Wake). It must not block.
	OnCommit func()
	// Dispatcher, when set, is the local dispatcher: each commit leases
	// the new deliveries it has room for at once (Store.IngestAndLease)
	// and hands them over after the commit, so they need no claim.
	Dispatcher Dispatcher
}

// Dispatcher takes the deliveries an ingest commit leases to it (see
// dispatch.Dispatcher).
type Dispatcher interface {
	// ReserveIngest reserves up to max worker slots and returns the claim
	// request for Store.IngestAndLease; false when it has no room.
	ReserveIngest(max int) (hookd.ClaimRequest, bool)
	// Handover starts the claims leased under r (or, with err, treats the
	// leases of r as unknown) and ends the reservation.
	Handover(r hookd.ClaimRequest, claims []hookd.Claim, err error)
}

// DefaultLeaseAtCommit is whether a server hands its dispatcher the
// deliveries of its ingest commits (Config.Dispatcher) by default.
const DefaultLeaseAtCommit = true

// slotsPerEvent bounds the worker slots one commit reserves per event: as
// many as the default per-endpoint cap, so a fan-out to several endpoints
// can be leased at once while the claim loop keeps slots of its own.
const slotsPerEvent = 16

// Committer groups concurrent submissions into single store transactions.
//
// Lifecycle (hookd.Service): New builds it, Start launches its one
// goroutine, Stop drains the queue and ends that goroutine. Submit before
// Start or after Stop returns EUNAVAILABLE.
type Committer struct {
	store    Store
	maxBatch int
	onCommit func()
	disp     Dispatcher

	mu      sync.Mutex
	queue   []*request
	running bool
	stopped bool          // Stop was called (before or after Start)
	wake    chan struct{} // capacity 1: "the queue may be non-empty"
	stop    chan struct{} // closed by Stop
	done    chan struct{} // closed when the loop has ended
	cancel  context.CancelFunc
}

// request is one Submit call waiting for its commit.
type request struct {
	events []hookd.NewEvent
	// state is guarded by Committer.mu.
	state int
	reply chan reply // capacity 1
}

const (
	queued    = iota // in Committer.queue
	taken            // handed to a commit; the submitter must wait for it
	withdrawn        // its submitter gave up while it was queued
)

type reply struct {
	results []hookd.IngestResult
	err     error
}

// New returns a Committer writing to store. Call Start before Submit.
func New(store Store, cfg Config) *Committer {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	return &Committer{
		store:    store,
		maxBatch: cfg.MaxBatch,
		onCommit: cfg.OnCommit,
		disp:     cfg.Dispatcher,
		wake:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// Start launches the committing goroutine. Store calls run with a context
// derived from ctx without its cancellation (so a drain can finish after
// ctx ends); Stop ends them. Start returns an error when called twice or
// after Stop.
func (c *Committer) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		return errors.New("ingest: already started")
	}
	if c.stopped {
		return errors.New("ingest: already stopped")
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	c.running = true
	go c.loop(loopCtx)
	return nil
}

// Stop refuses new submissions, commits everything already queued and
// waits for the goroutine to end. When ctx ends first, the commit in
// progress is cancelled, submissions still queued get EUNAVAILABLE, and
// Stop returns ctx.Err() once the goroutine has ended. Stop on a Committer
// that was never started returns nil (it can no longer start); a second
// Stop returns nil once the goroutine has ended.
func (c *Committer) Stop(ctx context.Context) error {
	c.mu.Lock()
	c.stopped = true
	if c.cancel == nil {
		c.mu.Unlock()
		return nil
	}
	wasRunning := c.running
	c.running = false
	c.mu.Unlock()
	if wasRunning {
		close(c.stop)
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		c.cancel()
		<-c.done
		return ctx.Err()
	}
}

// Submit commits events durably together with whatever else is queued and
// returns one result per event, in order. It returns only after the commit
// that holds its events has returned: a nil error means they are committed.
//
// If ctx ends while the events are still queued they are withdrawn and
// Submit returns ctx.Err(); once their commit has begun Submit waits for
// its outcome, so an error never hides a commit. A domain error of the
// store (such as ENOTFOUND for an OnlyEndpointID that is gone) concerns
// this submission only: other submissions of the same group are retried
// alone. EUNAVAILABLE is returned when the committer is not running.
func (c *Committer) Submit(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	if len(events) == 0 {
		return []hookd.IngestResult{}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := &request{events: events, reply: make(chan reply, 1)}
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return nil, hookd.Errorf(hookd.EUNAVAILABLE, "ingest is not running")
	}
	c.queue = append(c.queue, req)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is already pending
	}

	select {
	case r := <-req.reply:
		return r.results, r.err
	case <-ctx.Done():
	}
	c.mu.Lock()
	if req.state == queued {
		req.state = withdrawn
		c.mu.Unlock()
		return nil, ctx.Err()
	}
	c.mu.Unlock()
	r := <-req.reply // taken: its commit is running and will answer
	return r.results, r.err
}

// loop commits groups until Stop, then drains the queue.
func (c *Committer) loop(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
			c.commitQueued(ctx)
		case <-c.stop:
			c.commitQueued(ctx)
			c.failQueued(hookd.Errorf(hookd.EUNAVAILABLE, "ingest is stopping"))
			return
		}
	}
}

// commitQueued commits groups until the queue is empty or ctx ends.
func (c *Committer) commitQueued(ctx context.Context) {
	for ctx.Err() == nil {
		group := c.take()
		if len(group) == 0 {
			return
		}
		c.commit(ctx, group)
	}
}

// take removes the next group from the queue: queued requests in order
// while the group holds at most maxBatch events (always at least one).
func (c *Committer) take() []*request {
	c.mu.Lock()
	defer c.mu.Unlock()
	var group []*request
	n, i := 0, 0
	for ; i < len(c.queue); i++ {
		req := c.queue[i]
		if req.state == withdrawn {
			continue
		}
		if len(group) > 0 && n+len(req.events) > c.maxBatch {
			break
		}
		req.state = taken
		group = append(group, req)
		n += len(req.events)
	}
	rest := copy(c.queue, c.queue[i:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	return group
}

// failQueued answers every request still queued with err.
func (c *Committer) failQueued(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, req := range c.queue {
		if req.state == queued {
			req.state = taken
			req.reply <- reply{err: err}
		}
	}
	clear(c.queue)
	c.queue = c.queue[:0]
}

// commit ingests group in one transaction and answers each request.
func (c *Committer) commit(ctx context.Context, group []*request) {
	var events []hookd.NewEvent
	if len(group) == 1 {
		events = group[0].events
	} else {
		for _, req := range group {
			events = append(events, req.events...)
		}
	}
	results, err := c.ingest(ctx, events)
	switch {
	case err == nil:
		for _, req := range group {
			req.reply <- reply{results: results[:len(req.events):len(req.events)]}
			results = results[len(req.events):]
		}
	case len(group) > 1 && concernsOne(err):
		for _, req := range group {
			c.commit(ctx, []*request{req})
		}
	default:
		for _, req := range group {
			req.reply <- reply{err: err}
		}
	}
}

// ingest calls the store once, hands the deliveries leased at ingest to the
// dispatcher and runs OnCommit after a success that left deliveries to claim.
func (c *Committer) ingest(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	var (
		results []hookd.IngestResult
		claims  []hookd.Claim
		err     error
	)
	r, leasing := hookd.ClaimRequest{}, false
	if c.disp != nil {
		r, leasing = c.disp.ReserveIngest(slotsPerEvent * len(events))
	}
	if leasing {
		results, claims, err = c.store.IngestAndLease(ctx, events, r)
		c.disp.Handover(r, claims, err)
	} else {
		results, err = c.store.IngestEvents(ctx, events)
	}
	if err != nil {
		return nil, fmt.Errorf("ingest events: %w", err)
	}
	if len(results) != len(events) {
		return nil, fmt.Errorf("ingest events: store returned %d results for %d events", len(results), len(events))
	}
	created := 0
	for _, res := range results {
		created += res.Deliveries
	}
	if c.onCommit != nil && created > len(claims) {
		c.onCommit()
	}
	return results, nil
}

// concernsOne reports whether err may be caused by one submission of a
// group, so that retrying each submission alone isolates it. An
// unavailable store or an ended context concerns everyone.
func concernsOne(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return hookd.ErrorCode(err) != hookd.EUNAVAILABLE
}
