package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// leaseRooms is what lease at ingest needs of the endpoints $2 ($1 is now,
// $3 the default cap): those enabled, with a closed circuit and no rate
// limit, each with its room under the cap (unexpired leases of every
// owner) and whether it has due unleased work already (a backlog that new
// deliveries must not overtake). The backlog test is a scalar subquery
// with ORDER BY … LIMIT 1, not EXISTS: the planner turned EXISTS into a
// sequential scan of deliveries (1,633 buffers with 100k rows, 80k of them
// done) where the ordered form seeks a partial index (3 buffers).
const leaseRooms = `SELECT e.id,
		(CASE WHEN e.max_in_flight > 0 THEN e.max_in_flight ELSE $3 END) - (
			SELECT count(*) FROM deliveries f
			WHERE f.endpoint_id = e.id AND f.status = 'pending' AND f.lease_expires_at > $1),
		(SELECT d.next_attempt_at FROM deliveries d WHERE d.endpoint_id = e.id AND ` + due + `
			ORDER BY d.next_attempt_at, d.id LIMIT 1) IS NOT NULL
	FROM endpoints e
	WHERE e.id = ANY($2) AND NOT e.disabled AND e.circuit_state IN ('', 'closed') AND e.rate_limit_per_second <= 0`

// leaser decides, inside one ingest transaction, which new deliveries are
// inserted already leased to r.Owner (lease at commit; see
// hookd.Store.IngestAndLease). A nil leaser leases nothing.
type leaser struct {
	r     hookd.ClaimRequest
	now   time.Time
	until *time.Time
	left  int            // r.Limit minus what is leased
	room  map[string]int // endpoint id -> new deliveries it may still take
	// claims are the deliveries leased so far, for the dispatcher.
	claims []hookd.Claim
}

// newLeaser reads the room of the endpoints the call fans out to, in one
// round trip of two statements. The first reads every endpoint's room and
// backlog and, with a cap, takes the claim advisory lock (as a capped
// claim does, skipping an endpoint another transaction is claiming now)
// of only those with room and no backlog: an endpoint under load mostly
// has a backlog, and an ingest holding its lock would make the claims that
// it needs skip it. The second reads the room again, in a fresh snapshot
// taken after those locks: no claim of another node can take the same
// room before this transaction commits.
func newLeaser(ctx context.Context, tx pgx.Tx, r hookd.ClaimRequest, fan *fanOut) (*leaser, error) {
	until := ts(r.Now.Add(r.Lease))
	l := &leaser{r: r, now: ts(r.Now), until: &until, left: r.Limit, room: map[string]int{}}
	var eps []string
	for _, id := range fan.endpoints() {
		if !slices.Contains(r.ExcludeEndpoints, id) {
			eps = append(eps, id)
		}
	}
	if len(eps) == 0 {
		return l, nil
	}
	capped := r.DefaultMaxInFlight > 0
	first := map[string]bool{} // may take new deliveries (and, capped, is locked)
	b := &pgx.Batch{}
	b.Queue(`SELECT id, CASE WHEN backlog OR (room <= 0 AND $4) THEN false
			WHEN $4 THEN pg_try_advisory_xact_lock($5, hashtext(id)) ELSE true END
		FROM (`+leaseRooms+` OFFSET 0) AS r(id, room, backlog) ORDER BY id`,
		l.now, eps, r.DefaultMaxInFlight, capped, int32(claimLockClass)).Query(func(rows pgx.Rows) error {
		var ep string
		var ok bool
		_, err := pgx.ForEachRow(rows, []any{&ep, &ok}, func() error {
			if ok {
				first[ep] = true
			}
			return nil
		})
		return err
	})
	if capped {
		b.Queue(leaseRooms, l.now, eps, r.DefaultMaxInFlight).Query(func(rows pgx.Rows) error {
			var ep string
			var room int
			var backlog bool
			_, err := pgx.ForEachRow(rows, []any{&ep, &room, &backlog}, func() error {
				if first[ep] && !backlog && room > 0 {
					l.room[ep] = room
				}
				return nil
			})
			return err
		})
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("lease room: %w", err)
	}
	if !capped {
		for ep := range first {
			l.room[ep] = r.Limit
		}
	}
	return l, nil
}

// wants reports whether a new delivery to endpoint ep of an event created
// at would be leased (it is due at r.Now and its endpoint has room).
func (l *leaser) wants(ep string, created time.Time) bool {
	return l != nil && l.left > 0 && l.room[ep] > 0 && !ts(created).After(l.now)
}

// take leases the new delivery id of ev to ep; call it after wants.
func (l *leaser) take(ep *hookd.Endpoint, ev *hookd.Event, id string) {
	l.room[ep.ID]--
	l.left--
	at := ts(ev.CreatedAt)
	l.claims = append(l.claims, hookd.Claim{
		Delivery: &hookd.Delivery{
			ID: id, EventID: ev.ID, EndpointID: ep.ID, Status: hookd.StatusPending, NextAttemptAt: at,
			LeaseOwner: l.r.Owner, LeaseExpiresAt: *l.until, CreatedAt: at, UpdatedAt: at,
		},
		Event:    ev,
		Endpoint: ep,
	})
}

// result returns the claims leased (none for a nil leaser).
func (l *leaser) result() []hookd.Claim {
	if l == nil {
		return nil
	}
	return l.claims
}
