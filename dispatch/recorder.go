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
		err := r.write(comps)
		if err != nil {
			r.err = errors.Join(r.err, err)
		}
		r.d.recorded(batch, err == nil)
	}
}

// write records comps, retrying with backoff; after giveUp it tries three
// more times and then returns the error.
func (r *recorder) write(comps []hookd.Completion) error {
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

// recorded frees the endpoint slots of a written batch, sends the
// operational events (when ok: the batch was stored) and wakes the claim
// loop.
func (d *Dispatcher) recorded(batch []pending, ok bool) {
	now := d.cfg.Now()
	d.mu.Lock()
	for _, p := range batch {
		d.finishLocked(p.claim.Endpoint.ID, p.probe)
	}
	d.mu.Unlock()
	d.Wake()
	if !ok {
		return
	}
	for _, p := range batch {
		d.opEvent(p, now)
	}
}

func (d *Dispatcher) opEvent(p pending, now time.Time) {
	var typ string
	switch p.comp.Outcome {
	case hookd.OutcomeDead:
		typ = EventDeliveryDead
	case hookd.OutcomeGone:
		typ = EventEndpointDisabled
	default:
		return
	}
	c, a := p.claim, p.comp.Attempt
	ev := OpEvent{
		Type: typ, At: now,
		DeliveryID: c.Delivery.ID, EventID: c.Event.ID, EventType: c.Event.Type,
		EndpointID: c.Endpoint.ID, EndpointURL: c.Endpoint.URL,
		Attempts: a.Number, StatusCode: a.StatusCode, Error: a.Error,
		Reason: p.comp.DisableReason,
	}
	d.log.Warn(typ, "delivery", ev.DeliveryID, "endpoint", ev.EndpointID, "event", ev.EventID,
		"attempts", ev.Attempts, "status", ev.StatusCode, "err", ev.Error, "reason", ev.Reason)
	if d.cfg.OnEvent != nil {
		d.cfg.OnEvent(ev)
	}
}
