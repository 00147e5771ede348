package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookd/hookd"
)

const eventColumns = `id, tenant_id, type, payload, idempotency_key, created_at`

func scanEvent(sc scanner) (*hookd.Event, error) {
	var (
		e       hookd.Event
		payload []byte
		created int64
	)
	if err := sc.Scan(&e.ID, &e.TenantID, &e.Type, &payload, &e.IdempotencyKey, &created); err != nil {
		return nil, err
	}
	e.Payload = payload
	e.CreatedAt = fromMicros(created)
	return &e, nil
}

// IngestEvents stores the events and their deliveries in one transaction
// (the group-commit unit) and returns one result per event, in order; see
// hookd.Store. Each tenant's enabled endpoints are loaded once per call and
// matched in Go.
func (s *Store) IngestEvents(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	results, _, err := s.ingestEvents(ctx, events, nil)
	return results, err
}

// IngestAndLease ingests as IngestEvents does and leases, in the same
// durable transaction, the new deliveries the dispatcher of r.Owner may
// send at once; see hookd.Store and leaser.
func (s *Store) IngestAndLease(ctx context.Context, events []hookd.NewEvent, r hookd.ClaimRequest) ([]hookd.IngestResult, []hookd.Claim, error) {
	if r.Limit <= 0 {
		return s.ingestEvents(ctx, events, nil)
	}
	return s.ingestEvents(ctx, events, &r)
}

func (s *Store) ingestEvents(ctx context.Context, events []hookd.NewEvent, r *hookd.ClaimRequest) ([]hookd.IngestResult, []hookd.Claim, error) {
	if err := checkEvents(events); err != nil {
		return nil, nil, err
	}
	results := make([]hookd.IngestResult, len(events))
	var claims []hookd.Claim
	err := s.write(ctx, func(tx *sql.Tx) error {
		in, err := s.prepareIngest(ctx, tx, r)
		if err != nil {
			return err
		}
		defer in.close()
		seen := map[[2]string]int{} // (tenant, key) -> index of the first event in this call
		for i := range events {
			ne := &events[i]
			if ne.IdempotencyKey != "" {
				k := [2]string{ne.TenantID, ne.IdempotencyKey}
				if j, ok := seen[k]; ok {
					if err := hookd.CheckDuplicate(&results[j].Event, ne); err != nil {
						return err
					}
					results[i] = hookd.IngestResult{Event: results[j].Event, Duplicate: true}
					continue
				}
				orig, err := scanEvent(in.findKey.QueryRowContext(ctx, ne.TenantID, ne.IdempotencyKey))
				if err == nil {
					if err := hookd.CheckDuplicate(orig, ne); err != nil {
						return err
					}
					results[i] = hookd.IngestResult{Event: *orig, Duplicate: true}
					continue
				} else if err != sql.ErrNoRows {
					return fmt.Errorf("find idempotency key: %w", err)
				}
				seen[k] = i
			}
			ev := ne.Event
			ev.Payload = append([]byte(nil), ne.Payload...)
			ev.CreatedAt = fromMicros(micros(ne.CreatedAt))
			n, err := in.insert(ctx, ne, &ev)
			if err != nil {
				return err
			}
			results[i] = hookd.IngestResult{Event: ev, Deliveries: n}
		}
		if in.lease != nil {
			claims = in.lease.claims
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("ingest events: %w", err)
	}
	return results, claims, nil
}

// Statements of IngestEvents, prepared once on the writer (see stmtCache).
const (
	qFindKey = `SELECT ` + eventColumns + ` FROM events
		WHERE tenant_id = ? AND idempotency_key = ? AND idempotency_key <> ''`
	qAddEvent = `INSERT INTO events (` + eventColumns + `)
		VALUES (?, ?, ?, ?, ?, ?)`
	qAddDelivery = `INSERT INTO deliveries
		(id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
		VALUES (?, ?, ?, 'pending', ?, ?, ?)`
	// qAddLeased inserts a delivery leased at commit (lease at ingest).
	qAddLeased = `INSERT INTO deliveries
		(id, event_id, endpoint_id, status, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at)
		VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?4, ?4)`
	// qLeaseRoom is what lease at ingest needs of one endpoint (?3): its
	// in-flight room under the cap ?2 (unexpired leases of every owner at
	// ?1; NULL when it is disabled, its circuit not closed or it is
	// rate-limited) and whether it has due unleased work already (a backlog
	// that new deliveries must not overtake).
	qLeaseRoom = `SELECT
			(CASE WHEN e.max_in_flight > 0 THEN e.max_in_flight ELSE ?2 END) -
			(SELECT count(*) FROM deliveries d INDEXED BY deliveries_leased WHERE d.endpoint_id = e.id
				AND d.status = 'pending' AND d.lease_owner <> '' AND d.lease_expires_at > ?1),
			EXISTS (SELECT 1 FROM deliveries d INDEXED BY deliveries_endpoint_due WHERE d.endpoint_id = e.id
				AND ` + dueDelivery + `)
		FROM endpoints e WHERE e.id = ?3 AND e.disabled = 0 AND e.circuit_state = 'closed'
			AND e.rate_limit_per_second <= 0`
)

// ingest holds the prepared statements and endpoint cache of one IngestEvents.
type ingest struct {
	tx          *sql.Tx
	findKey     *sql.Stmt
	addEvent    *sql.Stmt
	addDelivery *sql.Stmt
	byTenant    map[string][]*hookd.Endpoint
	lease       *leaser // nil: nothing is leased at ingest
}

func (s *Store) prepareIngest(ctx context.Context, tx *sql.Tx, r *hookd.ClaimRequest) (*ingest, error) {
	in := &ingest{tx: tx, byTenant: map[string][]*hookd.Endpoint{}}
	if r != nil {
		in.lease = newLeaser(s, tx, *r)
	}
	var err error
	if in.findKey, err = s.txStmt(ctx, tx, qFindKey); err != nil {
		return nil, err
	}
	if in.addEvent, err = s.txStmt(ctx, tx, qAddEvent); err != nil {
		in.close()
		return nil, err
	}
	if in.addDelivery, err = s.txStmt(ctx, tx, qAddDelivery); err != nil {
		in.close()
		return nil, err
	}
	return in, nil
}

func (in *ingest) close() {
	for _, st := range []*sql.Stmt{in.findKey, in.addEvent, in.addDelivery} {
		if st != nil {
			st.Close()
		}
	}
	if in.lease != nil {
		in.lease.close()
	}
}

// insert stores one new event and its deliveries and returns how many; ev
// is the stored event (the claims leased at ingest point to it).
func (in *ingest) insert(ctx context.Context, ne *hookd.NewEvent, ev *hookd.Event) (int, error) {
	payload := []byte(ne.Payload)
	if payload == nil {
		payload = []byte{}
	}
	at := micros(ne.CreatedAt)
	if _, err := in.addEvent.ExecContext(ctx, ne.ID, ne.TenantID, ne.Type, payload, ne.IdempotencyKey, at); err != nil {
		return 0, fmt.Errorf("insert event %s: %w", ne.ID, mapErr(err))
	}
	targets, err := in.targets(ctx, ne)
	if err != nil {
		return 0, err
	}
	for _, ep := range targets {
		did := hookd.NewID(hookd.PrefixDelivery, ne.CreatedAt)
		leased := false
		if in.lease != nil && ne.OnlyEndpointID == "" {
			if leased, err = in.lease.take(ctx, ep, ev, did); err != nil {
				return 0, err
			}
		}
		if leased {
			_, err = in.lease.add.ExecContext(ctx, did, ne.ID, ep.ID, at, in.lease.r.Owner, in.lease.exp)
		} else {
			_, err = in.addDelivery.ExecContext(ctx, did, ne.ID, ep.ID, at, at, at)
		}
		if err != nil {
			return 0, fmt.Errorf("insert delivery: %w", mapErr(err))
		}
	}
	return len(targets), nil
}

// targets returns the endpoints an event fans out to (for OnlyEndpointID
// only the id is loaded: such deliveries are never leased at ingest).
func (in *ingest) targets(ctx context.Context, ne *hookd.NewEvent) ([]*hookd.Endpoint, error) {
	if ne.OnlyEndpointID != "" {
		var id string
		err := in.tx.QueryRowContext(ctx, `SELECT id FROM endpoints WHERE id = ?`, ne.OnlyEndpointID).Scan(&id)
		if err == sql.ErrNoRows {
			return nil, notFound("endpoint", ne.OnlyEndpointID)
		} else if err != nil {
			return nil, fmt.Errorf("load endpoint: %w", err)
		}
		return []*hookd.Endpoint{{ID: id}}, nil
	}
	eps, ok := in.byTenant[ne.TenantID]
	if !ok {
		rows, err := in.tx.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints
			WHERE tenant_id = ? AND disabled = 0`, ne.TenantID)
		if err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanEndpoint(rows)
			if err != nil {
				return nil, fmt.Errorf("load endpoints: %w", err)
			}
			eps = append(eps, e)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		in.byTenant[ne.TenantID] = eps
	}
	var out []*hookd.Endpoint
	for _, e := range eps {
		if e.Matches(ne.Type) {
			out = append(out, e)
		}
	}
	return out, nil
}

// GetEvent returns the event or ENOTFOUND.
func (s *Store) GetEvent(ctx context.Context, id string) (*hookd.Event, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	e, err := scanEvent(s.reader.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound("event", id)
	} else if err != nil {
		return nil, fmt.Errorf("get event: %w", mapErr(err))
	}
	return e, nil
}

// ListEvents lists events newest first, filtered by type and tenant.
func (s *Store) ListEvents(ctx context.Context, f hookd.EventFilter) ([]*hookd.Event, string, error) {
	if err := f.CheckText(); err != nil {
		return nil, "", err
	}
	q := `SELECT ` + eventColumns + ` FROM events WHERE 1=1`
	var args []any
	if f.Type != "" {
		q += ` AND type = ?`
		args = append(args, f.Type)
	}
	if f.TenantID != nil {
		q += ` AND tenant_id = ?`
		args = append(args, *f.TenantID)
	}
	if f.Cursor != "" {
		q += ` AND id < ?`
		args = append(args, f.Cursor)
	}
	limit := pageLimit(f.Limit)
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*hookd.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list events: %w", mapErr(err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list events: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}
