package dispatch

import (
	"context"
	"time"

	"github.com/hookd/hookd"
)

// ReserveIngest reserves up to max free worker slots for deliveries that an
// ingest commit leases to this dispatcher (lease at commit, see
// hookd.Store.IngestAndLease) and returns the claim request to pass to the
// store: this dispatcher's owner, now, its lease, the slots reserved as the
// limit, its endpoints that are at their local cap or probing as
// exclusions, and the default cap. ok is false when no slot is free, the
// dispatcher is not running, or its latest claim did not find the store
// idle (Dispatcher.idle): with work due, the ingest would lease nothing
// (an endpoint's backlog is never overtaken) while the slots it holds
// during its transaction are those the claims of that backlog need.
// Nothing is reserved then. Every reservation must be followed by exactly
// one Handover.
func (d *Dispatcher) ReserveIngest(max int) (r hookd.ClaimRequest, ok bool) {
	if max <= 0 || !d.idle.Load() {
		return r, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started || d.stopping || d.free == 0 {
		return r, false
	}
	n := min(d.free, max)
	d.free -= n
	var exclude []string
	for id, st := range d.endpoints {
		if st.full() {
			exclude = append(exclude, id)
		}
	}
	return hookd.ClaimRequest{
		Owner:              d.cfg.Owner,
		Now:                d.cfg.Now(),
		Lease:              d.cfg.Lease,
		Limit:              n,
		ExcludeEndpoints:   exclude,
		DefaultMaxInFlight: d.cfg.DefaultMaxInFlight,
	}, true
}

// Handover ends a reservation of ReserveIngest: it starts an attempt for
// each claim leased at ingest on the reserved slots (their event and
// endpoint come from the ingest: nothing is read again), gives back the
// slots not used, and releases the claims it cannot start (the dispatcher
// is stopping, or the endpoint filled up meanwhile). err is the ingest's
// error: the call may still have committed its leases (a connection lost
// during COMMIT), so they are released before the next claim, as after a
// failed claim.
func (d *Dispatcher) Handover(r hookd.ClaimRequest, claims []hookd.Claim, err error) {
	if err != nil {
		d.unreserve(r.Limit)
		d.noteAmbiguous(r.Now)
		d.Wake()
		return
	}
	release := d.admit(claims, r.Limit)
	if len(release) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := d.store.ReleaseDeliveries(ctx, d.cfg.Owner, release); err != nil {
			// The leases expire on their own; the work is only delayed.
			d.log.Error("release claims failed", "count", len(release), "err", err)
		}
		cancel()
		d.Wake()
		return
	}
	// The slots given back may be what a claim of the loop lacked while
	// they were reserved: wake it unless it found nothing due last time.
	if len(claims) < r.Limit && !d.idle.Load() {
		d.Wake()
	}
}
