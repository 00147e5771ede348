package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/ssrf"
)

// Dispatcher claims due deliveries and sends them. Create it with New, run it
// with Start and end it with Stop (the hookd.Service lifecycle).
type Dispatcher struct {
	store     Store
	cfg       Config
	log       *slog.Logger
	client    *http.Client
	transport *http.Transport // the shared transport; nil when cfg.Transport is set
	// opsClient sends to the system tenant's endpoint (--ops-url) through
	// opsTransport, which the SSRF guard does not restrict.
	opsClient    *http.Client
	opsTransport *http.Transport

	wake chan struct{}
	// tokenWait carries, from the recorder to the loop, how soon a
	// rate-limited endpoint whose tokens the recorder's claim spent has its
	// next token.
	tokenWait chan time.Duration
	// refill makes the recorder claim new work in the same store write that
	// records finished attempts (CompleteAndClaim), so that a slot freed by
	// a completion is refilled without a second write. It is on only when
	// the store says no other process claims from it (hookd.Exclusive, as
	// SQLite, which one process holds): with several nodes the node that
	// frees an endpoint's room would always take it back in the same
	// transaction, and the other nodes would never get that endpoint's work.
	refill bool
	// ambiguous holds the lease ends (r.Now + r.Lease) of claim calls that
	// failed: a connection lost during COMMIT leaves unknown whether they
	// took leases. The loop releases them (Store.ReleaseLeasesExpiringAt)
	// before its next claim, so such deliveries do not wait for the lease
	// to expire.
	// Guarded by mu.
	ambiguous []time.Time

	// idle is true while the latest claim of the loop found less due work
	// than it had room for, excluded no endpoint and may have stopped at no
	// endpoint's cap (counting the attempts in flight when it began, see
	// mayBeCapped): the store then held nothing due for this dispatcher, so
	// a finished attempt does not wake the loop for another claim (new work
	// wakes it: Wake, the store's wake-ups, the poll for retries coming due).
	idle atomic.Bool
	// sending counts the attempts started and not yet handed to the
	// recorder (or aborted): while it is above zero more completions are
	// coming, and the recorder lingers for them (see recorder).
	sending atomic.Int64

	mu        sync.Mutex
	started   bool
	stopping  bool // Stop was called (before or after Start)
	free      int  // worker slots not running an attempt
	endpoints map[string]*endpointState
	// toRelease holds claims whose attempt was canceled by Stop: they are
	// released, not recorded, so they spend no attempt.
	toRelease []string

	// sendCtx is the parent of every attempt; Stop cancels it when the
	// grace period is over. It is the dispatcher's own lifetime, not a
	// caller's context.
	sendCtx    context.Context
	sendCancel context.CancelFunc
	loopCancel context.CancelFunc
	loopDone   chan struct{}
	workers    sync.WaitGroup
	rec        *recorder
}

// New returns a Dispatcher for store configured by cfg (zero fields take
// their documented defaults). It does nothing until Start.
func New(store Store, cfg Config) *Dispatcher {
	cfg = cfg.withDefaults()
	d := &Dispatcher{
		store:     store,
		cfg:       cfg,
		log:       cfg.Logger.With("component", "dispatch"),
		wake:      make(chan struct{}, 1),
		tokenWait: make(chan time.Duration, 1),
		free:      cfg.Workers,
		endpoints: make(map[string]*endpointState),
	}
	if ex, ok := store.(hookd.Exclusive); ok {
		d.refill = ex.Exclusive()
	}
	rt, opsRT := cfg.Transport, cfg.Transport
	if rt == nil {
		d.transport = newTransport(cfg.Workers, cfg.AttemptTimeout, cfg.Guard)
		// The operator's own --ops-url is not subject to the SSRF guard
		// (see Config.Transport).
		d.opsTransport = newTransport(4, cfg.AttemptTimeout, ssrf.Guard{AllowPrivate: true})
		rt, opsRT = d.transport, d.opsTransport
	}
	d.client, d.opsClient = newClient(rt), newClient(opsRT)
	return d
}

// Owner returns the lease owner id of this dispatcher.
func (d *Dispatcher) Owner() string { return d.cfg.Owner }

// Start starts the claim loop and the recorder. ctx is not retained: the
// dispatcher runs until Stop. It returns an error when called twice or
// after Stop.
func (d *Dispatcher) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return errors.New("start: dispatcher already started")
	}
	if d.stopping {
		return errors.New("start: dispatcher already stopped")
	}
	d.started = true
	d.sendCtx, d.sendCancel = context.WithCancel(context.Background())
	loopCtx, cancel := context.WithCancel(context.Background())
	d.loopCancel = cancel
	d.loopDone = make(chan struct{})
	d.rec = newRecorder(d)
	go d.rec.run()
	go d.loop(loopCtx)
	return nil
}

// Wake makes the claim loop look for due work now instead of at its next
// poll; call it after new deliveries were committed. It never blocks.
func (d *Dispatcher) Wake() {
	d.idle.Store(false)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Stop stops claiming, lets in-flight attempts finish, cancels those still
// running when the grace period is over, records every finished attempt,
// releases the claims that were not attempted or were canceled, and
// returns. When ctx has a deadline the grace period ends a fifth of the
// time left before it (at most recordReserve): the rest is for recording
// and releasing, so those writes finish before ctx ends too. An attempt
// the grace cut is released for redelivery (it spends no attempt) and is
// not an error: Stop logs one warning with the count. It returns an error
// when completions could not be recorded or the canceled claims not
// released (their deliveries are redelivered once their lease expires).
// Stop before Start, or a second Stop, does nothing and returns nil.
func (d *Dispatcher) Stop(ctx context.Context) error {
	d.mu.Lock()
	if !d.started || d.stopping {
		d.stopping = true
		d.mu.Unlock()
		return nil
	}
	d.stopping = true
	d.mu.Unlock()

	grace := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		grace, cancel = context.WithDeadline(ctx, dl.Add(-min(time.Until(dl)/5, recordReserve)))
		defer cancel()
	}

	d.loopCancel()
	<-d.loopDone

	idle := make(chan struct{})
	go func() {
		d.workers.Wait()
		close(idle)
	}()
	cut := false
	select {
	case <-idle:
	case <-grace.Done():
		cut = true
		d.sendCancel()
		<-idle
	}
	d.sendCancel()

	// Every attempt goroutine has ended: nothing sends to the recorder now.
	recErr := d.rec.close(ctx)

	d.mu.Lock()
	ids := d.toRelease
	d.toRelease = nil
	d.mu.Unlock()
	var relErr error
	if len(ids) > 0 {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if ctx.Err() != nil {
			// No time left: try once more rather than leave the
			// deliveries to wait for their lease to expire.
			rctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		}
		if err := d.store.ReleaseDeliveries(rctx, d.cfg.Owner, ids); err != nil {
			relErr = fmt.Errorf("stop: grace period over, release %d canceled attempts: %w", len(ids), err)
		} else if cut {
			d.log.Warn("shutdown grace over: in-flight attempts canceled, their deliveries released for redelivery",
				"released", len(ids))
		}
		cancel()
	}
	if d.transport != nil {
		d.transport.CloseIdleConnections()
		d.opsTransport.CloseIdleConnections()
	}
	return errors.Join(recErr, relErr)
}

// recordReserve bounds the time Stop keeps, after cutting in-flight
// attempts, for recording and releasing them.
const recordReserve = 3 * time.Second

// state returns the endpoint's state, refreshed from ep. Call with d.mu held.
func (d *Dispatcher) state(ep *hookd.Endpoint) *endpointState {
	st := d.endpoints[ep.ID]
	if st == nil {
		st = &endpointState{}
		d.endpoints[ep.ID] = st
	}
	st.update(ep, d.cfg.DefaultMaxInFlight)
	return st
}

// finishLocked forgets an attempt of endpoint id that is over (recorded or
// released). Call with d.mu held.
func (d *Dispatcher) finishLocked(id string, probe bool) {
	st := d.endpoints[id]
	if st == nil {
		return
	}
	st.inFlight--
	if probe {
		st.probing = false
	}
	if st.idle() {
		delete(d.endpoints, id)
	}
}
