package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/hookd/hookd"
)

// leaser decides, inside one ingest transaction, which new deliveries are
// inserted already leased to r.Owner (lease at commit; see
// hookd.Store.IngestAndLease). The transaction runs on the single writer,
// so the room it reads cannot change before it commits.
type leaser struct {
	s    *Store
	tx   *sql.Tx
	r    hookd.ClaimRequest
	now  int64
	exp  int64
	left int // r.Limit minus what is leased
	// room is the number of new deliveries each endpoint may still take,
	// read once per call at its first new delivery: 0 when it takes none.
	room   map[string]int
	room0  *sql.Stmt
	add    *sql.Stmt
	claims []hookd.Claim
}

func newLeaser(s *Store, tx *sql.Tx, r hookd.ClaimRequest) *leaser {
	return &leaser{
		s: s, tx: tx, r: r,
		now: micros(r.Now), exp: micros(r.Now.Add(r.Lease)), left: r.Limit,
		room: map[string]int{},
	}
}

// prepare binds the statements of the leaser to its transaction.
func (l *leaser) prepare(ctx context.Context) error {
	var err error
	if l.room0, err = l.s.txStmt(ctx, l.tx, qLeaseRoom); err != nil {
		return err
	}
	l.add, err = l.s.txStmt(ctx, l.tx, qAddLeased)
	return err
}

func (l *leaser) close() {
	for _, st := range []*sql.Stmt{l.room0, l.add} {
		if st != nil {
			st.Close()
		}
	}
}

// take reports whether the new delivery id of ev to ep is leased at ingest,
// and records its claim when it is. It must be asked before the delivery
// is inserted.
func (l *leaser) take(ctx context.Context, ep *hookd.Endpoint, ev *hookd.Event, id string) (bool, error) {
	if l.left <= 0 || micros(ev.CreatedAt) > l.now {
		return false, nil
	}
	n, ok := l.room[ep.ID]
	if !ok {
		var err error
		if n, err = l.readRoom(ctx, ep.ID); err != nil {
			return false, err
		}
	}
	if n <= 0 {
		l.room[ep.ID] = 0
		return false, nil
	}
	l.room[ep.ID] = n - 1
	l.left--
	at := fromMicros(micros(ev.CreatedAt))
	l.claims = append(l.claims, hookd.Claim{
		Delivery: &hookd.Delivery{
			ID: id, EventID: ev.ID, EndpointID: ep.ID, Status: hookd.StatusPending, NextAttemptAt: at,
			LeaseOwner: l.r.Owner, LeaseExpiresAt: fromMicros(l.exp), CreatedAt: at, UpdatedAt: at,
		},
		Event:    ev,
		Endpoint: ep,
	})
	return true, nil
}

// readRoom returns how many new deliveries endpoint id may take: 0 when it
// is excluded, not eligible (disabled, circuit not closed, rate-limited)
// or has a backlog of due unleased work; else its room under the cap (or
// the whole limit without one).
func (l *leaser) readRoom(ctx context.Context, id string) (int, error) {
	if l.room0 == nil {
		if err := l.prepare(ctx); err != nil {
			return 0, err
		}
	}
	if slices.Contains(l.r.ExcludeEndpoints, id) {
		return 0, nil
	}
	var room int
	var backlog bool
	err := l.room0.QueryRowContext(ctx, l.now, l.r.DefaultMaxInFlight, id).Scan(&room, &backlog)
	if err == sql.ErrNoRows {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("lease room: %w", err)
	}
	switch {
	case backlog:
		return 0, nil
	case l.r.DefaultMaxInFlight <= 0:
		return l.left, nil
	}
	return room, nil
}
