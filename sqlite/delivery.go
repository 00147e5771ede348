package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/hookd/hookd"
)

const deliveryColumns = `id, event_id, endpoint_id, status, attempts, attempt_base, next_attempt_at,
	lease_owner, lease_expires_at, last_status_code, last_error, created_at, updated_at`

func scanDelivery(sc scanner) (*hookd.Delivery, error) {
	var (
		d                             hookd.Delivery
		status                        string
		next, lease, created, updated int64
	)
	err := sc.Scan(&d.ID, &d.EventID, &d.EndpointID, &status, &d.Attempts, &d.AttemptBase, &next,
		&d.LeaseOwner, &lease, &d.LastStatusCode, &d.LastError, &created, &updated)
	if err != nil {
		return nil, err
	}
	d.Status = hookd.DeliveryStatus(status)
	d.NextAttemptAt = fromMicros(next)
	d.LeaseExpiresAt = fromMicros(lease)
	d.CreatedAt = fromMicros(created)
	d.UpdatedAt = fromMicros(updated)
	return &d, nil
}

// scanDeliveries reads every row of rows.
func scanDeliveries(rows *sql.Rows) ([]*hookd.Delivery, error) {
	defer rows.Close()
	var out []*hookd.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// GetDelivery returns the delivery or ENOTFOUND.
func (s *Store) GetDelivery(ctx context.Context, id string) (*hookd.Delivery, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	d, err := scanDelivery(s.reader.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound("delivery", id)
	} else if err != nil {
		return nil, fmt.Errorf("get delivery: %w", mapErr(err))
	}
	return d, nil
}

// ListDeliveries lists deliveries newest first, filtered by status,
// endpoint and event.
func (s *Store) ListDeliveries(ctx context.Context, f hookd.DeliveryFilter) ([]*hookd.Delivery, string, error) {
	if err := f.CheckText(); err != nil {
		return nil, "", err
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE 1=1`
	var args []any
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.EventID != "" {
		q += ` AND event_id = ?`
		args = append(args, f.EventID)
	}
	q, args = deliveryScope(q, args, f.EndpointID, f.TenantID, f.EventType, f.UpdatedSince, f.UpdatedBefore)
	if f.Cursor != "" {
		q += ` AND id < ?`
		args = append(args, f.Cursor)
	}
	limit := pageLimit(f.Limit)
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", mapErr(err))
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// ListAttempts lists a delivery's attempts by Number (the cursor is the
// last Number in decimal), or ENOTFOUND when the delivery does not exist.
// A cursor that is not a number is EINVALID.
func (s *Store) ListAttempts(ctx context.Context, deliveryID string, page hookd.Page) ([]*hookd.Attempt, string, error) {
	if err := hookd.CheckTexts("id", deliveryID, "cursor", page.Cursor); err != nil {
		return nil, "", err
	}
	after := 0
	if page.Cursor != "" {
		n, err := strconv.Atoi(page.Cursor)
		if err != nil {
			return nil, "", hookd.Errorf(hookd.EINVALID, "cursor: must be an attempt number")
		}
		after = n
	}
	limit := pageLimit(page.Limit)
	var out []*hookd.Attempt
	err := s.read(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM deliveries WHERE id = ?`, deliveryID).Scan(&one); err == sql.ErrNoRows {
			return notFound("delivery", deliveryID)
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT number, started_at, status_code, latency_us, response_body, error
			FROM attempts WHERE delivery_id = ? AND number > ? ORDER BY number LIMIT ?`, deliveryID, after, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a := &hookd.Attempt{DeliveryID: deliveryID}
			var started, latency int64
			if err := rows.Scan(&a.Number, &started, &a.StatusCode, &latency, &a.ResponseBody, &a.Error); err != nil {
				return err
			}
			a.StartedAt = fromMicros(started)
			a.Latency = time.Duration(latency) * time.Microsecond
			out = append(out, a)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fmt.Errorf("list attempts: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = strconv.Itoa(out[limit-1].Number)
	}
	return out, next, nil
}

// RetryDelivery requeues one delivery of any status now: pending, lease
// cleared, AttemptBase = Attempts. ENOTFOUND when missing.
func (s *Store) RetryDelivery(ctx context.Context, id string, now time.Time) (*hookd.Delivery, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	var d *hookd.Delivery
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = scanDelivery(tx.QueryRowContext(ctx, `UPDATE deliveries SET status = 'pending',
			next_attempt_at = ?1, lease_owner = '', lease_expires_at = 0, attempt_base = attempts,
			updated_at = ?1 WHERE id = ?2 RETURNING `+deliveryColumns, micros(now), id))
		if err == sql.ErrNoRows {
			return notFound("delivery", id)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("retry delivery: %w", err)
	}
	return d, nil
}

// ReplayDead requeues the dead deliveries that match f as RetryDelivery
// does and returns how many. EventType matches the event type exactly;
// Since (inclusive) and Until (exclusive) bound UpdatedAt.
func (s *Store) ReplayDead(ctx context.Context, f hookd.ReplayFilter, now time.Time) (int, error) {
	return s.replay(ctx, f, now, nil)
}

// ReplayRecovered requeues the dead letters of a recovered endpoint and
// stores notice(n) in the same write transaction; see hookd.Store.
func (s *Store) ReplayRecovered(ctx context.Context, r hookd.Recovery, now time.Time, notice func(int) *hookd.NewEvent) (int, error) {
	n, err := s.replay(ctx, hookd.ReplayFilter{EndpointID: r.EndpointID, Until: r.SucceededAt}, now, notice)
	if err != nil {
		return 0, fmt.Errorf("recovered: %w", err)
	}
	return n, nil
}

// replay requeues the dead deliveries that match f and, when there were
// any and notice is set, stores notice(n) in the same transaction.
func (s *Store) replay(ctx context.Context, f hookd.ReplayFilter, now time.Time, notice func(int) *hookd.NewEvent) (int, error) {
	if err := f.CheckText(); err != nil {
		return 0, err
	}
	q := `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, lease_owner = '',
		lease_expires_at = 0, attempt_base = attempts, updated_at = ? WHERE status = 'dead'`
	q, args := deliveryScope(q, []any{micros(now), micros(now)}, f.EndpointID, f.TenantID, f.EventType, f.Since, f.Until)
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 || notice == nil {
			return err
		}
		return s.ingestNotice(ctx, tx, notice(int(n)))
	})
	if err != nil {
		return 0, fmt.Errorf("replay dead: %w", err)
	}
	return int(n), nil
}

// deliveryScope appends to q (and args) the clauses that the dead-letter
// list and replay filters share: endpoint, tenant, event type and a range
// [since, until) of updated_at (the time of death of a dead delivery);
// zero values add nothing.
func deliveryScope(q string, args []any, endpointID string, tenantID *string, eventType string, since, until time.Time) (string, []any) {
	if endpointID != "" {
		q += ` AND endpoint_id = ?`
		args = append(args, endpointID)
	}
	if tenantID != nil {
		q += ` AND endpoint_id IN (SELECT id FROM endpoints WHERE tenant_id = ?)`
		args = append(args, *tenantID)
	}
	if eventType != "" {
		q += ` AND event_id IN (SELECT id FROM events WHERE type = ?)`
		args = append(args, eventType)
	}
	if !since.IsZero() {
		q += ` AND updated_at >= ?`
		args = append(args, micros(since))
	}
	if !until.IsZero() {
		q += ` AND updated_at < ?`
		args = append(args, micros(until))
	}
	return q, args
}
