package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// deliveryColumns are scanned by scanDelivery, in this order.
const deliveryColumns = `id, event_id, endpoint_id, status, attempts, attempt_base, next_attempt_at,
	lease_owner, lease_expires_at, last_status_code, last_error, created_at, updated_at`

func scanDelivery(row pgx.Row) (*hookd.Delivery, error) {
	var d hookd.Delivery
	var lease *time.Time
	err := row.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.Status, &d.Attempts, &d.AttemptBase,
		&d.NextAttemptAt, &d.LeaseOwner, &lease, &d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return nil, err
	}
	d.NextAttemptAt = d.NextAttemptAt.UTC()
	d.LeaseExpiresAt = fromNull(lease)
	d.CreatedAt = d.CreatedAt.UTC()
	d.UpdatedAt = d.UpdatedAt.UTC()
	return &d, nil
}

func collectDeliveries(rows pgx.Rows) ([]*hookd.Delivery, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*hookd.Delivery, error) { return scanDelivery(r) })
}

// GetDelivery returns the delivery or ENOTFOUND.
func (s *Store) GetDelivery(ctx context.Context, id string) (*hookd.Delivery, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "delivery not found")
	} else if err != nil {
		return nil, fmt.Errorf("get delivery: %w", translate(err))
	}
	return d, nil
}

// ListDeliveries lists deliveries newest first, filtered by status,
// endpoint and event.
func (s *Store) ListDeliveries(ctx context.Context, f hookd.DeliveryFilter) ([]*hookd.Delivery, string, error) {
	if err := f.CheckText(); err != nil {
		return nil, "", err
	}
	limit := pageLimit(f.Page)
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE ($1 = '' OR status = $1) AND ($2 = '' OR endpoint_id = $2) AND ($3 = '' OR event_id = $3)
			AND ($4 = '' OR id < $4)
			AND ($6::text IS NULL OR endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = $6))
			AND ($7 = '' OR EXISTS (SELECT 1 FROM events e WHERE e.id = deliveries.event_id AND e.type = $7))
			AND ($8::timestamptz IS NULL OR updated_at >= $8)
			AND ($9::timestamptz IS NULL OR updated_at < $9)
		ORDER BY id DESC LIMIT $5`, string(f.Status), f.EndpointID, f.EventID, f.Cursor, limit+1, f.TenantID,
		f.EventType, nullTime(f.UpdatedSince), nullTime(f.UpdatedBefore))
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", translate(err))
	}
	list, err := collectDeliveries(rows)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", translate(err))
	}
	list, next := cut(list, limit, func(d *hookd.Delivery) string { return d.ID })
	return list, next, nil
}

// ListAttempts lists a delivery's attempts by Number, oldest first; the
// cursor is the last Number. ENOTFOUND when the delivery does not exist,
// EINVALID for a cursor that is not a number.
func (s *Store) ListAttempts(ctx context.Context, deliveryID string, page hookd.Page) ([]*hookd.Attempt, string, error) {
	if err := hookd.CheckTexts("id", deliveryID, "cursor", page.Cursor); err != nil {
		return nil, "", err
	}
	limit := pageLimit(page)
	after := 0
	if page.Cursor != "" {
		n, err := strconv.Atoi(page.Cursor)
		if err != nil {
			return nil, "", hookd.FieldErrorf("cursor", "must be a number")
		}
		after = n
	}
	var list []*hookd.Attempt
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`, deliveryID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return hookd.Errorf(hookd.ENOTFOUND, "delivery not found")
		}
		rows, err := tx.Query(ctx, `SELECT delivery_id, number, started_at, status_code, latency_us, response_body, error
			FROM attempts WHERE delivery_id = $1 AND number > $2 ORDER BY number LIMIT $3`, deliveryID, after, limit+1)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*hookd.Attempt, error) {
			var a hookd.Attempt
			var us int64
			var body []byte
			if err := r.Scan(&a.DeliveryID, &a.Number, &a.StartedAt, &a.StatusCode, &us, &body, &a.Error); err != nil {
				return nil, err
			}
			a.StartedAt = a.StartedAt.UTC()
			a.Latency = time.Duration(us) * time.Microsecond
			a.ResponseBody = string(body)
			return &a, nil
		})
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("list attempts: %w", err)
	}
	list, next := cut(list, limit, func(a *hookd.Attempt) string { return strconv.Itoa(a.Number) })
	return list, next, nil
}

// RetryDelivery requeues one delivery of any status now: pending, due at
// now, lease cleared, AttemptBase = Attempts. ENOTFOUND when missing.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time) (*hookd.Delivery, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	var d *hookd.Delivery
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRow(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $2,
			lease_owner = '', lease_expires_at = NULL, attempt_base = attempts, updated_at = $2
			WHERE id = $1 RETURNING `+deliveryColumns, id, ts(now)))
		if isNoRows(err) {
			return hookd.Errorf(hookd.ENOTFOUND, "delivery not found")
		} else if err != nil {
			return err
		}
		return notify(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("retry delivery: %w", err)
	}
	return d, nil
}

// ReplayDead requeues the dead deliveries that match f as RetryDelivery
// does and returns how many. Since and Until bound UpdatedAt (the time of
// death), inclusive and exclusive; zero times do not bound.
func (s *Store) ReplayDead(ctx context.Context, f hookd.ReplayFilter, now time.Time) (int, error) {
	if err := f.CheckText(); err != nil {
		return 0, err
	}
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		n, err = replayTx(ctx, tx, f, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("replay dead: %w", err)
	}
	return n, nil
}

// ReplayRecovered requeues the dead letters of a recovered endpoint and
// stores notice(n) in the same transaction; see hookd.Store.
func (s *Store) ReplayRecovered(ctx context.Context, r hookd.Recovery, now time.Time, notice func(int) *hookd.NewEvent) (int, error) {
	f := hookd.ReplayFilter{EndpointID: r.EndpointID, Until: r.SucceededAt}
	if err := f.CheckText(); err != nil {
		return 0, err
	}
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) (err error) {
		if n, err = replayTx(ctx, tx, f, now); err != nil || n == 0 || notice == nil {
			return err
		}
		return ingestNotice(ctx, tx, notice(n))
	})
	if err != nil {
		return 0, fmt.Errorf("replay recovered: %w", err)
	}
	return n, nil
}

// replayTx requeues the dead deliveries that match f in tx (waking the
// dispatchers at commit) and returns how many.
func replayTx(ctx context.Context, tx pgx.Tx, f hookd.ReplayFilter, now time.Time) (int, error) {
	tag, err := tx.Exec(ctx, `UPDATE deliveries d SET status = 'pending', next_attempt_at = $5,
		lease_owner = '', lease_expires_at = NULL, attempt_base = attempts, updated_at = $5
		WHERE status = 'dead'
			AND ($1 = '' OR endpoint_id = $1)
			AND ($2 = '' OR EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id AND e.type = $2))
			AND ($3::timestamptz IS NULL OR updated_at >= $3)
			AND ($4::timestamptz IS NULL OR updated_at < $4)
			AND ($6::text IS NULL OR endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = $6))`,
		f.EndpointID, f.EventType, nullTime(f.Since), nullTime(f.Until), ts(now), f.TenantID)
	if err != nil {
		return 0, err
	}
	n := int(tag.RowsAffected())
	if n > 0 {
		return n, notify(ctx, tx)
	}
	return 0, nil
}
