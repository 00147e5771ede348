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
// CompleteAttempts call, retrying with backoff when the store fails.
type recorder struct {
	d    *Dispatcher
	in   chan pending
	done chan struct{}
	// giveUp is closed when Stop's context ends: failing writes are then
	// tried a few more times and dropped (the leases expire and the
	// deliveries are sent again: at least once).
	giveUp chan struct{}
	err    error // set before done is closed
}

func newRecorder(d *Dispatcher) *recorder {
	return &recorder{
		d:      d,
		in:     make(chan pending, 2*maxBatch),
		done:   make(chan struct{}),
		giveUp: make(chan struct{}),
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
	for {
		p, ok := <-r.in
		if !ok {
			return
		}
		batch = append(batch[:0], p)
	fill:
		for len(batch) < maxBatch {
			select {
			case p, ok := <-r.in:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
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
