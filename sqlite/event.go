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
	if err := checkEvents(events); err != nil {
		return nil, err
	}
	results := make([]hookd.IngestResult, len(events))
	err := s.write(ctx, func(tx *sql.Tx) error {
		in, err := s.prepareIngest(ctx, tx)
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
			n, err := in.insert(ctx, ne)
			if err != nil {
				return err
			}
			ev := ne.Event
			ev.Payload = append([]byte(nil), ne.Payload...)
			ev.CreatedAt = fromMicros(micros(ne.CreatedAt))
			results[i] = hookd.IngestResult{Event: ev, Deliveries: n}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ingest events: %w", err)
	}
	return results, nil
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
)

// ingest holds the prepared statements and endpoint cache of one IngestEvents.
type ingest struct {
	tx          *sql.Tx
	findKey     *sql.Stmt
	addEvent    *sql.Stmt
	addDelivery *sql.Stmt
	byTenant    map[string][]*hookd.Endpoint
}

func (s *Store) prepareIngest(ctx context.Context, tx *sql.Tx) (*ingest, error) {
	in := &ingest{tx: tx, byTenant: map[string][]*hookd.Endpoint{}}
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
}

// insert stores one new event and its deliveries and returns how many.
func (in *ingest) insert(ctx context.Context, ne *hookd.NewEvent) (int, error) {
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
	for _, id := range targets {
		did := hookd.NewID(hookd.PrefixDelivery, ne.CreatedAt)
		if _, err := in.addDelivery.ExecContext(ctx, did, ne.ID, id, at, at, at); err != nil {
			return 0, fmt.Errorf("insert delivery: %w", mapErr(err))
		}
	}
	return len(targets), nil
}

// targets returns the endpoint ids an event fans out to.
func (in *ingest) targets(ctx context.Context, ne *hookd.NewEvent) ([]string, error) {
	if ne.OnlyEndpointID != "" {
		var id string
		err := in.tx.QueryRowContext(ctx, `SELECT id FROM endpoints WHERE id = ?`, ne.OnlyEndpointID).Scan(&id)
		if err == sql.ErrNoRows {
			return nil, notFound("endpoint", ne.OnlyEndpointID)
		} else if err != nil {
			return nil, fmt.Errorf("load endpoint: %w", err)
		}
		return []string{id}, nil
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
	var ids []string
	for _, e := range eps {
		if e.Matches(ne.Type) {
			ids = append(ids, e.ID)
		}
	}
	return ids, nil
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
