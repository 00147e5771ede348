package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

// FireAlert stores a as firing unless a.Key fires already, ingesting notice
// in the same transaction when it does; see hookd.Store.
func (s *Store) FireAlert(ctx context.Context, a hookd.Alert, notice *hookd.NewEvent) (bool, error) {
	var fired bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts
			(key, scope, endpoint_id, tenant_id, since, success_rate, attempts, failed, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			a.Key, a.Scope, a.EndpointID, a.TenantID, micros(a.Since), a.SuccessRate, a.Attempts, a.Failed, micros(a.UpdatedAt))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if fired = n > 0; !fired {
			_, err := tx.ExecContext(ctx, `UPDATE alerts SET success_rate = ?, attempts = ?, failed = ?, updated_at = ?
				WHERE key = ?`, a.SuccessRate, a.Attempts, a.Failed, micros(a.UpdatedAt), a.Key)
			return err
		}
		return s.ingestNotice(ctx, tx, notice)
	})
	if err != nil {
		return false, fmt.Errorf("fire alert: %w", mapErr(err))
	}
	return fired, nil
}

// ResolveAlert deletes the episode (key, since) and ingests notice in the
// same transaction when it existed; see hookd.Store.
func (s *Store) ResolveAlert(ctx context.Context, key string, since time.Time, notice *hookd.NewEvent) (bool, error) {
	var resolved bool
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE key = ? AND since = ?`, key, micros(since))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if resolved = n > 0; !resolved {
			return nil
		}
		return s.ingestNotice(ctx, tx, notice)
	})
	if err != nil {
		return false, fmt.Errorf("resolve alert: %w", mapErr(err))
	}
	return resolved, nil
}

// ListAlerts returns the firing alerts, oldest first.
func (s *Store) ListAlerts(ctx context.Context) ([]hookd.Alert, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT key, scope, endpoint_id, tenant_id, since, success_rate,
		attempts, failed, updated_at FROM alerts ORDER BY since, key`)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", mapErr(err))
	}
	defer rows.Close()
	var list []hookd.Alert
	for rows.Next() {
		var (
			a              hookd.Alert
			since, updated int64
		)
		if err := rows.Scan(&a.Key, &a.Scope, &a.EndpointID, &a.TenantID, &since, &a.SuccessRate,
			&a.Attempts, &a.Failed, &updated); err != nil {
			return nil, fmt.Errorf("list alerts: %w", err)
		}
		a.Since, a.UpdatedAt = fromMicros(since), fromMicros(updated)
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list alerts: %w", mapErr(err))
	}
	return list, nil
}

// ingestNotice stores an operational event and its deliveries inside tx, as
// IngestEvents does (no idempotency key is looked up: a notice has none).
func (s *Store) ingestNotice(ctx context.Context, tx *sql.Tx, ne *hookd.NewEvent) error {
	if ne == nil {
		return nil
	}
	in, err := s.prepareIngest(ctx, tx, nil)
	if err != nil {
		return err
	}
	defer in.close()
	ev := ne.Event
	_, err = in.insert(ctx, ne, &ev)
	return err
}
