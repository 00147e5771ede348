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
	results, _, err := s.ingestEvents(ctx, events, nil)
	return results, err
}

// IngestAndLease ingests as IngestEvents does and inserts, in the same
// transaction, the new deliveries that r.Owner may send at once already
// leased to it (see hookd.Store and leaseRooms). The NOTIFY that wakes the
// other nodes is sent only when some new delivery is left unleased.
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
	if len(events) == 0 {
		return nil, nil, nil
	}
	results := make([]hookd.IngestResult, len(events))
	var claims []hookd.Claim
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		clear(results)
		var err error
		claims, err = ingestTx(ctx, tx, events, results, r)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("ingest: %w", err)
	}
	return results, claims, nil
}

func ingestTx(ctx context.Context, tx pgx.Tx, events []hookd.NewEvent, results []hookd.IngestResult, r *hookd.ClaimRequest) ([]hookd.Claim, error) {
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
		return nil, err
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
		return nil, err
	}
	// Keys taken by a concurrent ingest between our read and our insert.
	var raced []idemKey
	for _, i := range ins {
		ev := &events[i].Event
		if !inserted[ev.ID] {
			if ev.IdempotencyKey == "" {
				return nil, fmt.Errorf("event %s was not inserted", ev.ID)
			}
			raced = append(raced, idemKey{ev.TenantID, ev.IdempotencyKey})
		}
	}
	if len(raced) > 0 {
		more, err := originals(ctx, tx, raced)
		if err != nil {
			return nil, err
		}
		for k, e := range more {
			stored[k] = e
		}
	}

	// Fan out the inserted events.
	fan, err := loadFanOut(ctx, tx, events, inserted, r != nil)
	if err != nil {
		return nil, err
	}
	var lease *leaser
	if r != nil {
		if lease, err = newLeaser(ctx, tx, *r, fan); err != nil {
			return nil, err
		}
	}
	var d deliveryRows
	for i := range events {
		ne := &events[i]
		ev := ne.Event
		ev.CreatedAt = ts(ev.CreatedAt)
		switch {
		case dupOf[i] >= 0:
			if err := hookd.CheckDuplicate(&results[dupOf[i]].Event, ne); err != nil {
				return nil, err
			}
			results[i] = hookd.IngestResult{Event: results[dupOf[i]].Event, Duplicate: true}
		case !inserted[ev.ID]:
			orig, ok := stored[idemKey{ev.TenantID, ev.IdempotencyKey}]
			if !ok {
				return nil, fmt.Errorf("original of idempotency key of event %s not found", ev.ID)
			}
			if err := hookd.CheckDuplicate(orig, ne); err != nil {
				return nil, err
			}
			results[i] = hookd.IngestResult{Event: *orig, Duplicate: true}
		default:
			targets := fan.targets(ne)
			var leasedEv *hookd.Event // shared by the claims of this event
			for _, ep := range targets {
				id := hookd.NewID(hookd.PrefixDelivery, ev.CreatedAt)
				if ne.OnlyEndpointID == "" && lease.wants(ep.ID, ev.CreatedAt) {
					if leasedEv == nil {
						leasedEv = new(hookd.Event)
						*leasedEv = ev
					}
					lease.take(ep, leasedEv, id)
					d.addLeased(id, ev.ID, ep.ID, ev.CreatedAt, lease.r.Owner, lease.until)
				} else {
					d.add(id, ev.ID, ep.ID, ev.CreatedAt)
				}
			}
			results[i] = hookd.IngestResult{Event: ev, Deliveries: len(targets)}
		}
	}
	if err := d.insert(ctx, tx); err != nil {
		return nil, err
	}
	if d.unleased > 0 {
		if err := notify(ctx, tx); err != nil {
			return nil, err
		}
	}
	return lease.result(), nil
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

// endpoints returns the ids of every enabled endpoint loaded, sorted.
func (f *fanOut) endpoints() []string {
	var ids []string
	for _, eps := range f.byTenant {
		for _, ep := range eps {
			ids = append(ids, ep.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// loadFanOut loads the enabled endpoints of the tenants of the inserted
// events, and the OnlyEndpointID targets (ENOTFOUND if one is missing).
// The rows are locked FOR KEY SHARE so that a concurrent delete waits for
// this transaction instead of failing its delivery inserts. With full, the
// tenants' endpoints are loaded whole (lease at ingest hands them to the
// dispatcher); else only what matching needs.
func loadFanOut(ctx context.Context, tx pgx.Tx, events []hookd.NewEvent, inserted map[string]bool, full bool) (*fanOut, error) {
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
	if len(tenants) > 0 && full {
		slices.Sort(tenants)
		tenants = slices.Compact(tenants)
		rows, err := tx.Query(ctx, `SELECT `+endpointColumns+` FROM endpoints
			WHERE tenant_id = ANY($1) AND NOT disabled ORDER BY id FOR KEY SHARE`, tenants)
		if err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		eps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*hookd.Endpoint, error) { return scanEndpoint(r) })
		if err != nil {
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		for _, ep := range eps {
			f.byTenant[ep.TenantID] = append(f.byTenant[ep.TenantID], ep)
		}
	} else if len(tenants) > 0 {
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

// targets returns the endpoints ne is delivered to, by id (for an
// OnlyEndpointID only the id is set).
func (f *fanOut) targets(ne *hookd.NewEvent) []*hookd.Endpoint {
	if ne.OnlyEndpointID != "" {
		return []*hookd.Endpoint{{ID: ne.OnlyEndpointID}}
	}
	var out []*hookd.Endpoint
	for _, ep := range f.byTenant[ne.TenantID] {
		if ep.Matches(ne.Type) {
			out = append(out, ep)
		}
	}
	return out
}

// deliveryRows collects new pending deliveries for one multi-row INSERT.
type deliveryRows struct {
	ids, events, endpoints []string
	at                     []time.Time
	owners                 []string     // lease owner; "" when not leased
	leases                 []*time.Time // lease expiry; nil when not leased
	unleased               int
}

func (d *deliveryRows) add(id, eventID, endpointID string, at time.Time) {
	d.addLeased(id, eventID, endpointID, at, "", nil)
	d.unleased++
}

// addLeased adds a delivery leased to owner until *until (lease at ingest).
func (d *deliveryRows) addLeased(id, eventID, endpointID string, at time.Time, owner string, until *time.Time) {
	d.ids = append(d.ids, id)
	d.events = append(d.events, eventID)
	d.endpoints = append(d.endpoints, endpointID)
	d.at = append(d.at, at)
	d.owners = append(d.owners, owner)
	d.leases = append(d.leases, until)
}

// insert writes the collected deliveries: pending, due at their event's
// creation, created and updated then, leased where addLeased said so.
func (d *deliveryRows) insert(ctx context.Context, tx pgx.Tx) error {
	if len(d.ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO deliveries (id, event_id, endpoint_id, status, next_attempt_at,
			lease_owner, lease_expires_at, created_at, updated_at)
		SELECT id, ev, ep, 'pending', at, owner, lease, at, at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::timestamptz[])
			AS u(id, ev, ep, at, owner, lease)`,
		d.ids, d.events, d.endpoints, d.at, d.owners, d.leases)
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	return nil
}
