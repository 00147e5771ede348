package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

const eventColumns = `id, tenant_id, type, payload, idempotency_key, created_at`

func scanEvent(row pgx.Row) (*hookd.Event, error) {
	var e hookd.Event
	var payload []byte
	if err := row.Scan(&e.ID, &e.TenantID, &e.Type, &payload, &e.IdempotencyKey, &e.CreatedAt); err != nil {
		return nil, err
	}
	e.Payload = json.RawMessage(payload)
	e.CreatedAt = e.CreatedAt.UTC()
	return &e, nil
}

// GetEvent returns the event or ENOTFOUND.
func (s *Store) GetEvent(ctx context.Context, id string) (*hookd.Event, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "event not found")
	} else if err != nil {
		return nil, fmt.Errorf("get event: %w", translate(err))
	}
	return e, nil
}

// ListEvents lists events newest first, filtered by type and tenant.
func (s *Store) ListEvents(ctx context.Context, f hookd.EventFilter) ([]*hookd.Event, string, error) {
	if err := f.CheckText(); err != nil {
		return nil, "", err
	}
	limit := pageLimit(f.Page)
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE ($1 = '' OR type = $1) AND ($2::text IS NULL OR tenant_id = $2) AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, f.Type, f.TenantID, f.Cursor, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", translate(err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*hookd.Event, error) { return scanEvent(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list events: %w", translate(err))
	}
	list, next := cut(list, limit, func(e *hookd.Event) string { return e.ID })
	return list, next, nil
}

// idemKey identifies an idempotency key within its tenant.
type idemKey struct{ tenant, key string }

// IngestEvents stores events and their deliveries in one transaction and
// returns one result per event, in order (see hookd.Store). It costs a
// fixed number of statements whatever the batch size: the tenants' enabled
// endpoints are loaded once and matched in Go, events and deliveries are
// inserted with one multi-row INSERT each, and idempotency keys are settled
// by the unique index (INSERT … ON CONFLICT DO NOTHING, then the originals
// are read back). Errors: ENOTFOUND when an OnlyEndpointID is missing.
func (s *Store) IngestEvents(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	if err := checkEvents(events); err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, nil
	}
	results := make([]hookd.IngestResult, len(events))
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		clear(results)
		return ingestTx(ctx, tx, events, results)
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return results, nil
}

func ingestTx(ctx context.Context, tx pgx.Tx, events []hookd.NewEvent, results []hookd.IngestResult) error {
	// Idempotency: the first event of the batch with a key is the primary;
	// later ones in the batch are duplicates of it.
	primary := map[idemKey]int{}
	dupOf := make([]int, len(events))
	for i := range events {
		dupOf[i] = -1
		ev := &events[i].Event
		if ev.IdempotencyKey == "" {
			continue
		}
		k := idemKey{ev.TenantID, ev.IdempotencyKey}
		if j, ok := primary[k]; ok {
			dupOf[i] = j
		} else {
			primary[k] = i
		}
	}
	stored, err := originals(ctx, tx, keysOf(primary))
	if err != nil {
		return err
	}

	// Insert every event that is not a known duplicate.
	var ins []int
	for i := range events {
		ev := &events[i].Event
		if dupOf[i] >= 0 {
			continue
		}
		if ev.IdempotencyKey != "" {
			if _, ok := stored[idemKey{ev.TenantID, ev.IdempotencyKey}]; ok {
				continue
			}
		}
		ins = append(ins, i)
	}
	inserted, err := insertEvents(ctx, tx, events, ins)
	if err != nil {
		return err
	}
	// Keys taken by a concurrent ingest between our read and our insert.
	var raced []idemKey
	for _, i := range ins {
		ev := &events[i].Event
		if !inserted[ev.ID] {
			if ev.IdempotencyKey == "" {
				return fmt.Errorf("event %s was not inserted", ev.ID)
			}
			raced = append(raced, idemKey{ev.TenantID, ev.IdempotencyKey})
		}
	}
	if len(raced) > 0 {
		more, err := originals(ctx, tx, raced)
		if err != nil {
			return err
		}
		for k, e := range more {
			stored[k] = e
		}
	}

	// Fan out the inserted events.
	fan, err := loadFanOut(ctx, tx, events, inserted)
	if err != nil {
		return err
	}
	var d deliveryRows
	for i := range events {
		ne := &events[i]
		ev := ne.Event
		ev.CreatedAt = ts(ev.CreatedAt)
		switch {
		case dupOf[i] >= 0:
			if err := hookd.CheckDuplicate(&results[dupOf[i]].Event, ne); err != nil {
				return err
			}
			results[i] = hookd.IngestResult{Event: results[dupOf[i]].Event, Duplicate: true}
		case !inserted[ev.ID]:
			orig, ok := stored[idemKey{ev.TenantID, ev.IdempotencyKey}]
			if !ok {
				return fmt.Errorf("original of idempotency key of event %s not found", ev.ID)
			}
			if err := hookd.CheckDuplicate(orig, ne); err != nil {
				return err
			}
			results[i] = hookd.IngestResult{Event: *orig, Duplicate: true}
		default:
			targets := fan.targets(ne)
			for _, epID := range targets {
				d.add(hookd.NewID(hookd.PrefixDelivery, ev.CreatedAt), ev.ID, epID, ev.CreatedAt)
			}
			results[i] = hookd.IngestResult{Event: ev, Deliveries: len(targets)}
		}
	}
	if err := d.insert(ctx, tx); err != nil {
		return err
	}
	if len(d.ids) > 0 {
		return notify(ctx, tx)
	}
	return nil
}

func keysOf(m map[idemKey]int) []idemKey {
	keys := make([]idemKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// originals reads the stored events holding the given idempotency keys.
func originals(ctx context.Context, tx pgx.Tx, keys []idemKey) (map[idemKey]*hookd.Event, error) {
	found := map[idemKey]*hookd.Event{}
	if len(keys) == 0 {
		return found, nil
	}
	tenants := make([]string, len(keys))
	ks := make([]string, len(keys))
	for i, k := range keys {
		tenants[i], ks[i] = k.tenant, k.key
	}
	rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE idempotency_key <> '' AND (tenant_id, idempotency_key) IN
			(SELECT * FROM unnest($1::text[], $2::text[]))`, tenants, ks)
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*hookd.Event, error) { return scanEvent(r) })
	if err != nil {
		return nil, fmt.Errorf("read idempotency keys: %w", err)
	}
	for _, e := range list {
		found[idemKey{e.TenantID, e.IdempotencyKey}] = e
	}
	return found, nil
}

// insertEvents inserts events[i] for i in idx in one statement and returns
// the ids inserted (an idempotency key taken concurrently skips its row).
func insertEvents(ctx context.Context, tx pgx.Tx, events []hookd.NewEvent, idx []int) (map[string]bool, error) {
	inserted := make(map[string]bool, len(idx))
	if len(idx) == 0 {
		return inserted, nil
	}
	n := len(idx)
	ids, tenants, types, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	payloads, created := make([][]byte, n), make([]time.Time, n)
	for j, i := range idx {
		ev := &events[i].Event
		ids[j], tenants[j], types[j], keys[j] = ev.ID, ev.TenantID, ev.Type, ev.IdempotencyKey
		payloads[j] = nonNilBytes(ev.Payload)
		created[j] = ts(ev.CreatedAt)
	}
	rows, err := tx.Query(ctx, `INSERT INTO events (`+eventColumns+`)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::timestamptz[])
		ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key <> '' DO NOTHING
		RETURNING id`, ids, tenants, types, payloads, keys, created)
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("insert events: %w", err)
	}
	for _, id := range got {
		inserted[id] = true
	}
	return inserted, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// fanOut holds the endpoints events may go to, loaded once per call.
type fanOut struct {
	byTenant map[string][]*hookd.Endpoint // enabled endpoints, by id
	only     map[string]bool              // OnlyEndpointID targets that exist
}

// loadFanOut loads the enabled endpoints of the tenants of the inserted
// events, and the OnlyEndpointID targets (ENOTFOUND if one is missing).
// The rows are locked FOR KEY SHARE so that a concurrent delete waits for
// this transaction instead of failing its delivery inserts.
func loadFanOut(ctx context.Context, tx pgx.Tx, events []hookd.NewEvent, inserted map[string]bool) (*fanOut, error) {
	f := &fanOut{byTenant: map[string][]*hookd.Endpoint{}, only: map[string]bool{}}
	var tenants, only []string
	for i := range events {
		ne := &events[i]
		if !inserted[ne.ID] {
			continue
		}
		if ne.OnlyEndpointID != "" {
			only = append(only, ne.OnlyEndpointID)
		} else {
			tenants = append(tenants, ne.TenantID)
		}
	}
	if len(tenants) > 0 {
		slices.Sort(tenants)
		tenants = slices.Compact(tenants)
		rows, err := tx.Query(ctx, `SELECT id, tenant_id, event_types FROM endpoints
			WHERE tenant_id = ANY($1) AND NOT disabled ORDER BY id FOR KEY SHARE`, tenants)
		if err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		var e hookd.Endpoint
		var types []byte
		_, err = pgx.ForEachRow(rows, []any{&e.ID, &e.TenantID, &types}, func() error {
			ep := &hookd.Endpoint{ID: e.ID, TenantID: e.TenantID}
			if err := json.Unmarshal(types, &ep.EventTypes); err != nil {
				return fmt.Errorf("endpoint %s event_types: %w", e.ID, err)
			}
			f.byTenant[ep.TenantID] = append(f.byTenant[ep.TenantID], ep)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
	}
	if len(only) > 0 {
		slices.Sort(only)
		only = slices.Compact(only)
		rows, err := tx.Query(ctx, `SELECT id FROM endpoints WHERE id = ANY($1) ORDER BY id FOR KEY SHARE`, only)
		if err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		for _, id := range ids {
			f.only[id] = true
		}
		for _, id := range only {
			if !f.only[id] {
				return nil, hookd.Errorf(hookd.ENOTFOUND, "endpoint not found")
			}
		}
	}
	return f, nil
}

// targets returns the ids of the endpoints ne is delivered to, sorted.
func (f *fanOut) targets(ne *hookd.NewEvent) []string {
	if ne.OnlyEndpointID != "" {
		return []string{ne.OnlyEndpointID}
	}
	var ids []string
	for _, ep := range f.byTenant[ne.TenantID] {
		if ep.Matches(ne.Type) {
			ids = append(ids, ep.ID)
		}
	}
	return ids
}

// deliveryRows collects new pending deliveries for one multi-row INSERT.
type deliveryRows struct {
	ids, events, endpoints []string
	at                     []time.Time
}

func (d *deliveryRows) add(id, eventID, endpointID string, at time.Time) {
	d.ids = append(d.ids, id)
	d.events = append(d.events, eventID)
	d.endpoints = append(d.endpoints, endpointID)
	d.at = append(d.at, at)
}

// insert writes the collected deliveries: pending, due at their event's
// creation, created and updated then.
func (d *deliveryRows) insert(ctx context.Context, tx pgx.Tx) error {
	if len(d.ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
		SELECT id, ev, ep, 'pending', at, at, at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(id, ev, ep, at)`,
		d.ids, d.events, d.endpoints, d.at)
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return nil
}
