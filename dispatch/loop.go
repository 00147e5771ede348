package dispatch

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

// loop is the one claim loop: it claims up to the free worker slots, starts
// the attempts, and waits for Wake, the store's wake-ups, a worker slot
// freeing up or the poll interval. It ends when ctx is canceled (Stop).
func (d *Dispatcher) loop(ctx context.Context) {
	defer close(d.loopDone)
	var wakeups <-chan struct{}
	if w, ok := d.store.(hookd.Waker); ok {
		wakeups = w.Wakeups()
	}
	timer := time.NewTimer(d.cfg.PollInterval)
	defer timer.Stop()
	var backoff time.Duration
	for {
		more, wait, err := d.claimOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			backoff = min(max(2*backoff, 50*time.Millisecond), 5*time.Second)
			d.log.Error("claim failed", "err", err, "retry_in", backoff)
			wait = backoff
		} else {
			backoff = 0
			if more {
				continue
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case _, ok := <-wakeups:
			if !ok {
				wakeups = nil
			}
		case <-timer.C:
		}
	}
}

// claimOnce claims work for the free slots. more is true when the claim
// filled every free slot (there may be more due work); wait is how long the
// loop may sleep before looking again.
func (d *Dispatcher) claimOnce(ctx context.Context) (more bool, wait time.Duration, err error) {
	now := d.cfg.Now()
	wait = d.cfg.PollInterval
	d.mu.Lock()
	free := d.free
	var exclude []string
	for id, st := range d.endpoints {
		if st.idle() {
			delete(d.endpoints, id)
			continue
		}
		if st.full() {
			exclude = append(exclude, id)
		}
	}
	d.mu.Unlock()
	if free == 0 {
		return false, wait, nil
	}

	// The claim is not canceled half-way by Stop: claims that come back
	// after Stop began are released at once rather than left leased.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	claims, err := d.store.ClaimDue(cctx, hookd.ClaimRequest{
		Owner:              d.cfg.Owner,
		Now:                now,
		Lease:              d.cfg.Lease,
		Limit:              free,
		ExcludeEndpoints:   exclude,
		DefaultMaxInFlight: d.cfg.DefaultMaxInFlight,
	})
	if err != nil {
		return false, wait, fmt.Errorf("claim: %w", err)
	}
	if release := d.admit(claims); len(release) > 0 {
		if err := d.store.ReleaseClaims(cctx, d.cfg.Owner, release); err != nil {
			// The leases expire on their own; the work is only delayed.
			d.log.Error("release claims failed", "count", len(release), "err", err)
		}
	}
	// A rate-limited endpoint got what its bucket held: come back for its
	// next token rather than at the next poll, so the rate is reached.
	if w := nextTokenWait(claims); w > 0 {
		wait = min(wait, w)
	}
	return len(claims) >= free, wait, nil
}

// admit starts an attempt for every claim its endpoint has room for and
// returns the ids of the others, to be released: the endpoint is at its
// in-flight cap, or its circuit is not closed and a probe is already out
// (one probe per endpoint at a time). The rate limit was applied by the
// store's claim.
func (d *Dispatcher) admit(claims []hookd.Claim) (release []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range claims {
		if d.stopping || d.free == 0 {
			release = append(release, c.Delivery.ID)
			continue
		}
		st := d.state(c.Endpoint)
		probe := c.Endpoint.Circuit.State != "" && c.Endpoint.Circuit.State != hookd.CircuitClosed
		if st.full() || (probe && st.inFlight > 0) {
			release = append(release, c.Delivery.ID)
			continue
		}
		st.inFlight++
		st.probing = probe
		d.free--
		d.workers.Add(1)
		go d.run(c, probe)
	}
	return release
}

// run makes one attempt and hands it to the recorder; the worker slot is
// free once the recorder has accepted it.
func (d *Dispatcher) run(c hookd.Claim, probe bool) {
	defer d.workers.Done()
	p, aborted := d.attempt(d.sendCtx, c, probe)
	if !aborted {
		d.rec.add(p)
	}
	d.mu.Lock()
	d.free++
	if aborted {
		d.toRelease = append(d.toRelease, c.Delivery.ID)
		d.finishLocked(c.Endpoint.ID, probe)
	}
	d.mu.Unlock()
	d.Wake()
}
