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
		if !d.sleep(ctx, timer, wait, &wakeups) {
			return
		}
	}
}

// sleep waits up to wait for Wake, the store's wake-ups or the timer. A
// token wait sent by the recorder (its claim spent a rate-limited
// endpoint's tokens) shortens the wait without a claim. It returns false
// when ctx is canceled.
func (d *Dispatcher) sleep(ctx context.Context, timer *time.Timer, wait time.Duration, wakeups *<-chan struct{}) bool {
	deadline := time.Now().Add(wait)
	timer.Reset(wait)
	for {
		select {
		case <-ctx.Done():
			return false
		case <-d.wake:
			return true
		case _, ok := <-*wakeups:
			if !ok {
				*wakeups = nil
			}
			return true
		case <-timer.C:
			return true
		case w := <-d.tokenWait:
			if at := time.Now().Add(w); at.Before(deadline) {
				deadline = at
				timer.Stop()
				timer.Reset(w)
			}
		}
	}
}

// claimOnce claims work for the free slots. more is true when the claim
// filled every free slot (there may be more due work); wait is how long the
// loop may sleep before looking again.
func (d *Dispatcher) claimOnce(ctx context.Context) (more bool, wait time.Duration, err error) {
	wait = d.cfg.PollInterval
	if err := d.releaseAmbiguous(ctx); err != nil {
		return false, wait, err
	}
	now := d.cfg.Now()
	d.mu.Lock()
	free, exclude := d.reserveLocked(nil)
	before := d.inFlightLocked()
	d.mu.Unlock()
	if free == 0 {
		// Nothing was looked at: the next slot freed must wake the loop.
		d.idle.Store(false)
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
		d.unreserve(free)
		d.noteAmbiguous(now)
		return false, wait, fmt.Errorf("claim: %w", err)
	}
	if release := d.admit(claims, free); len(release) > 0 {
		if err := d.store.ReleaseDeliveries(cctx, d.cfg.Owner, release); err != nil {
			// The leases expire on their own; the work is only delayed.
			d.log.Error("release claims failed", "count", len(release), "err", err)
		}
	}
	// A rate-limited endpoint got what its bucket held: come back for its
	// next token rather than at the next poll, so the rate is reached.
	if w := nextTokenWait(claims); w > 0 {
		wait = min(wait, w)
	}
	d.idle.Store(len(claims) < free && len(exclude) == 0 && !d.mayBeCapped(claims, before))
	return len(claims) >= free, wait, nil
}

// reserveLocked takes every free worker slot for one claim and returns how
// many, with the endpoints to exclude from it: those at their in-flight cap
// or with a probe out, not counting the attempts of done (finished, being
// recorded in the same transaction as the claim). It reserves nothing while
// stopping. Call with d.mu held; admit or unreserve gives the slots back.
func (d *Dispatcher) reserveLocked(done []pending) (free int, exclude []string) {
	if d.stopping {
		return 0, nil
	}
	var finishing map[string]int
	var probesDone map[string]bool
	if len(done) > 0 {
		finishing = make(map[string]int)
		probesDone = make(map[string]bool)
		for _, p := range done {
			finishing[p.claim.Endpoint.ID]++
			probesDone[p.claim.Endpoint.ID] = probesDone[p.claim.Endpoint.ID] || p.probe
		}
	}
	for id, st := range d.endpoints {
		if st.idle() {
			delete(d.endpoints, id)
			continue
		}
		after := *st
		after.inFlight -= finishing[id]
		after.probing = after.probing && !probesDone[id]
		if after.full() {
			exclude = append(exclude, id)
		}
	}
	free = d.free
	d.free = 0
	return free, exclude
}

// inFlightLocked returns the attempts in flight per endpoint. Call with
// d.mu held.
func (d *Dispatcher) inFlightLocked() map[string]int {
	n := make(map[string]int, len(d.endpoints))
	for id, st := range d.endpoints {
		n[id] = st.inFlight
	}
	return n
}

// mayBeCapped reports whether the claim may have stopped at the in-flight
// cap of an endpoint it claimed from, with more of its work due: the
// endpoint is full now, or its attempts in flight when the claim began
// (before) plus those claimed reach its cap. The store counts the leases
// of the attempts in flight when the claim began: attempts recorded while
// the claim ran (a slow claim, a fast receiver) have left the local count
// by now, but they took room from the claim, and their completions woke
// nobody if the loop was idle before. Counting only what is in flight now
// called such a claim idle, and a capped backlog then waited for the next
// ingest or poll: issue 13's batch stall.
func (d *Dispatcher) mayBeCapped(claims []hookd.Claim, before map[string]int) bool {
	claimed := make(map[string]int)
	for _, c := range claims {
		claimed[c.Endpoint.ID]++
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range claims {
		id := c.Endpoint.ID
		capacity := c.Endpoint.MaxInFlight
		if capacity <= 0 {
			capacity = d.cfg.DefaultMaxInFlight
		}
		if st := d.endpoints[id]; st != nil && st.full() {
			return true
		}
		if before[id]+claimed[id] >= capacity {
			return true
		}
	}
	return false
}

// unreserve gives back n reserved worker slots that were not used.
func (d *Dispatcher) unreserve(n int) {
	if n == 0 {
		return
	}
	d.mu.Lock()
	d.free += n
	d.mu.Unlock()
}

// admit starts an attempt for every claim its endpoint has room for, using
// the reserved worker slots, gives back the slots it did not use, and
// returns the ids of the claims it did not start, to be released: no slot
// was left, the dispatcher is stopping, the endpoint is at its in-flight
// cap, or its circuit is not closed and a probe is already out (one probe
// per endpoint at a time). The rate limit was applied by the store's claim.
func (d *Dispatcher) admit(claims []hookd.Claim, reserved int) (release []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range claims {
		if d.stopping || reserved == 0 {
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
		reserved--
		d.workers.Add(1)
		d.sending.Add(1)
		go d.run(c, probe)
	}
	d.free += reserved
	return release
}

// run makes one attempt and hands it to the recorder; the worker slot is
// free once the recorder has accepted it (the recorder frees it and refills
// it with its completion write). An aborted attempt frees its slot here.
func (d *Dispatcher) run(c hookd.Claim, probe bool) {
	defer d.workers.Done()
	p, aborted := d.attempt(d.sendCtx, c, probe)
	d.sending.Add(-1)
	if !aborted {
		d.rec.add(p)
		return
	}
	d.mu.Lock()
	d.free++
	d.toRelease = append(d.toRelease, c.Delivery.ID)
	d.finishLocked(c.Endpoint.ID, probe)
	d.mu.Unlock()
	d.Wake()
}

// noteAmbiguous remembers a failed claim call made at now: it may still have
// committed its leases.
func (d *Dispatcher) noteAmbiguous(now time.Time) {
	d.mu.Lock()
	d.ambiguous = append(d.ambiguous, now.Add(d.cfg.Lease))
	d.mu.Unlock()
}

// releaseAmbiguous releases the leases of the failed claim calls noted by
// noteAmbiguous (none were handed to a worker). It keeps those it could not
// release and returns the error, for the loop's backoff.
func (d *Dispatcher) releaseAmbiguous(ctx context.Context) error {
	d.mu.Lock()
	pending := d.ambiguous
	d.ambiguous = nil
	d.mu.Unlock()
	for i, until := range pending {
		n, err := d.store.ReleaseLeasesExpiringAt(context.WithoutCancel(ctx), d.cfg.Owner, until)
		if err != nil {
			d.mu.Lock()
			d.ambiguous = append(d.ambiguous, pending[i:]...)
			d.mu.Unlock()
			return fmt.Errorf("release leases of a failed claim: %w", err)
		}
		if n > 0 {
			d.log.Info("released leases of a failed claim", "count", n)
		}
	}
	return nil
}
