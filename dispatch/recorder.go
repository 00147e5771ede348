package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

// pending is a finished attempt waiting to be recorded.
type pending struct {
	comp  hookd.Completion
	claim hookd.Claim
	probe bool
	op    *OpEvent // the operational event of a death or 410, else nil
}

// recorder is the one goroutine that writes completions: it takes every
// completion queued (up to maxBatch) and records them with one
// CompleteAttempts call (CompleteAndClaim with its refill claim), retrying
// with backoff when the store fails.
//
// Linger: every completion write has a fixed cost (the commit, the round
// trips, the stats rollup upserts), so when the queue held fewer than
// lingerBatch completions and other attempts are still being sent
// (Dispatcher.sending > 0: more completions are imminent), the recorder
// waits up to recordLinger for them before writing, and writes as soon as
// the batch reaches lingerBatch or nothing else is being sent. It never
// waits when nothing else is in flight (a lone delivery is recorded at
// once), nor once the queue is closed (Stop flushes without waiting). The
// wait holds the batch's worker and endpoint slots and leases for at most
// recordLinger more.
//
// It does not linger when the write also refills (Dispatcher.refill, an
// exclusive store such as SQLite): there the held slots and leases are what
// the ingest's lease at commit and the refill claim need, and lingering
// measured slower (hookbench single-event ingest on SQLite, medians of 4
// pairs: 2,018 delivered/s against 2,424, hookd CPU 0.57 ms per delivery
// against 0.49), while on Postgres it measured faster (docs/benchmarks.md, "Completion
// linger").
type recorder struct {
	d    *Dispatcher
	in   chan pending
	done chan struct{}
	// giveUp is closed when Stop's context ends: failing writes are then
	// tried a few more times and dropped (the leases expire and the
	// deliveries are sent again: at least once).
	giveUp chan struct{}
	err    error // set before done is closed
	// wait is the linger, recordLinger (tests set a longer one).
	wait time.Duration
}

func newRecorder(d *Dispatcher) *recorder {
	return &recorder{
		d:      d,
		in:     make(chan pending, 2*maxBatch),
		done:   make(chan struct{}),
		giveUp: make(chan struct{}),
		wait:   recordLinger,
	}
}

// add queues p; it blocks while the queue is full (back-pressure on the
// workers when the store is slow).
func (r *recorder) add(p pending) { r.in <- p }

// close flushes everything queued and ends the recorder. No add may run
// concurrently or after. ctx bounds how long failing writes are retried.
func (r *recorder) close(ctx context.Context) error {
	close(r.in)
	stop := context.AfterFunc(ctx, func() { close(r.giveUp) })
	defer stop()
	<-r.done
	return r.err
}

func (r *recorder) run() {
	defer close(r.done)
	batch := make([]pending, 0, maxBatch)
	comps := make([]hookd.Completion, 0, maxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		p, ok := <-r.in
		if !ok {
			return
		}
		batch = append(batch[:0], p)
		var open bool
		batch, open = r.fill(batch)
		if open && !r.d.refill && len(batch) < lingerBatch && r.d.sending.Load() > 0 {
			batch = r.linger(batch, linger)
		}
		comps = comps[:0]
		for _, p := range batch {
			comps = append(comps, p.comp)
		}
		// The batch's worker slots are free now; refill them in the same
		// write that records the batch (see Dispatcher.refill).
		r.d.mu.Lock()
		r.d.free += len(batch)
		var free int
		var exclude []string
		if r.d.refill {
			free, exclude = r.d.reserveLocked(batch)
		}
		r.d.mu.Unlock()
		req := hookd.ClaimRequest{
			Owner:              r.d.cfg.Owner,
			Now:                r.d.cfg.Now(),
			Lease:              r.d.cfg.Lease,
			Limit:              free,
			ExcludeEndpoints:   exclude,
			DefaultMaxInFlight: r.d.cfg.DefaultMaxInFlight,
		}
		claims, claimed, err := r.write(comps, req)
		if err != nil {
			r.err = errors.Join(r.err, err)
		}
		r.d.recorded(batch, err == nil, claims, free, claimed)
	}
}

// fill appends what is queued, without waiting, up to maxBatch. open is
// false when the queue was found closed (Stop).
func (r *recorder) fill(batch []pending) (_ []pending, open bool) {
	for len(batch) < maxBatch {
		select {
		case p, ok := <-r.in:
			if !ok {
				return batch, false
			}
			batch = append(batch, p)
		default:
			return batch, true
		}
	}
	return batch, true
}

// linger appends completions arriving within r.wait, until the batch
// holds lingerBatch, no other attempt is being sent or the queue closes
// (see recorder). t is a stopped timer, stopped again on return.
func (r *recorder) linger(batch []pending, t *time.Timer) []pending {
	t.Reset(r.wait)
	defer t.Stop()
	for len(batch) < lingerBatch {
		select {
		case p, ok := <-r.in:
			if !ok {
				return batch
			}
			batch = append(batch, p)
			var open bool
			if batch, open = r.fill(batch); !open || r.d.sending.Load() == 0 {
				return batch
			}
		case <-t.C:
			return batch
		}
	}
	return batch
}

// write records comps and, when req.Limit > 0, claims req in the same
// transaction (CompleteAndClaim). When that fails it retries the
// completions alone (CompleteAttempts) with backoff; after giveUp it tries
// three more times and then returns the error. claimed reports whether the
// claim ran (claims holds its result).
func (r *recorder) write(comps []hookd.Completion, req hookd.ClaimRequest) (claims []hookd.Claim, claimed bool, err error) {
	if req.Limit > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		claims, err := r.d.store.CompleteAndClaim(ctx, comps, r.d.cfg.Circuit, req)
		cancel()
		if err == nil {
			return claims, true, nil
		}
		r.d.log.Error("record attempts and claim failed", "count", len(comps), "err", err)
		r.d.noteAmbiguous(req.Now)
	}
	return nil, false, r.writeCompletions(comps)
}

// writeCompletions records comps, retrying with backoff; after giveUp it
// tries three more times and then returns the error.
func (r *recorder) writeCompletions(comps []hookd.Completion) error {
	backoff := 20 * time.Millisecond
	late := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := r.d.store.CompleteAttempts(ctx, comps, r.d.cfg.Circuit)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-r.giveUp:
			late++
			if late > 3 {
				return fmt.Errorf("record %d attempts: %w", len(comps), err)
			}
		default:
		}
		r.d.log.Error("record attempts failed", "count", len(comps), "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-r.giveUp:
			t.Stop()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// recorded frees the endpoint slots of a written batch, starts the claims
// made with it on the reserved worker slots (releasing those it cannot
// start), sends the operational events (when ok: the batch was stored) and
// wakes the claim loop unless the claim showed there is nothing more to
// take: it ran and returned fewer claims than it asked for, or (no claim
// ran) the loop's latest claim found nothing more due (Dispatcher.idle).
func (d *Dispatcher) recorded(batch []pending, ok bool, claims []hookd.Claim, reserved int, claimed bool) {
	now := d.cfg.Now()
	d.mu.Lock()
	for _, p := range batch {
		d.finishLocked(p.claim.Endpoint.ID, p.probe)
	}
	d.mu.Unlock()
	if release := d.admit(claims, reserved); len(release) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := d.store.ReleaseDeliveries(ctx, d.cfg.Owner, release); err != nil {
			// The leases expire on their own; the work is only delayed.
			d.log.Error("release claims failed", "count", len(release), "err", err)
		}
		cancel()
	}
	if (!claimed && !d.idle.Load()) || (claimed && len(claims) >= reserved) {
		d.Wake()
	}
	if w := nextTokenWait(claims); w > 0 {
		select {
		case d.tokenWait <- w:
		default:
		}
	}
	if !ok {
		return
	}
	noticed := false
	for _, p := range batch {
		d.opEvent(p, now)
		noticed = noticed || p.comp.Notice != nil
	}
	if noticed {
		d.Wake() // the notices' deliveries are due now
	}
}

func (d *Dispatcher) opEvent(p pending, now time.Time) {
	if p.op == nil || d.cfg.OnEvent == nil {
		return
	}
	d.cfg.OnEvent(*p.op, p.comp.Notice)
}

// opEventOf returns the operational event of a completion that kills its
// delivery or disables its endpoint, else nil.
func opEventOf(c hookd.Claim, comp hookd.Completion, at time.Time) *OpEvent {
	var typ string
	switch comp.Outcome {
	case hookd.OutcomeDead:
		typ = EventDeliveryDead
	case hookd.OutcomeGone:
		typ = EventEndpointDisabled
	default:
		return nil
	}
	a := comp.Attempt
	return &OpEvent{
		Type: typ, At: at,
		DeliveryID: c.Delivery.ID, EventID: c.Event.ID, EventType: c.Event.Type,
		EndpointID: c.Endpoint.ID, EndpointURL: c.Endpoint.URL, TenantID: c.Endpoint.TenantID,
		Attempts: a.Number, StatusCode: a.StatusCode, Error: a.Error,
		Reason: comp.DisableReason,
	}
}
