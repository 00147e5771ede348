package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// FireAlert stores a as firing unless a.Key fires already, ingesting notice
// in the same transaction when it does; see hookd.Store. Two nodes firing
// the same key at once meet on the primary key: one inserts, the other
// updates.
func (s *Store) FireAlert(ctx context.Context, a hookd.Alert, notice *hookd.NewEvent) (bool, error) {
	var fired bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO alerts
			(key, scope, endpoint_id, tenant_id, since, success_rate, attempts, failed, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING`,
			a.Key, a.Scope, a.EndpointID, a.TenantID, ts(a.Since), a.SuccessRate, a.Attempts, a.Failed, ts(a.UpdatedAt))
		if err != nil {
			return err
		}
		if fired = tag.RowsAffected() == 1; !fired {
			_, err := tx.Exec(ctx, `UPDATE alerts SET success_rate = $2, attempts = $3, failed = $4, updated_at = $5
				WHERE key = $1`, a.Key, a.SuccessRate, a.Attempts, a.Failed, ts(a.UpdatedAt))
			return err
		}
		return ingestNotice(ctx, tx, notice)
	})
	if err != nil {
		return false, fmt.Errorf("fire alert: %w", translate(err))
	}
	return fired, nil
}

// ResolveAlert deletes the episode (key, since) and ingests notice in the
// same transaction when it existed; see hookd.Store.
func (s *Store) ResolveAlert(ctx context.Context, key string, since time.Time, notice *hookd.NewEvent) (bool, error) {
	var resolved bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM alerts WHERE key = $1 AND since = $2`, key, ts(since))
		if err != nil {
			return err
		}
		if resolved = tag.RowsAffected() == 1; !resolved {
			return nil
		}
		return ingestNotice(ctx, tx, notice)
	})
	if err != nil {
		return false, fmt.Errorf("resolve alert: %w", translate(err))
	}
	return resolved, nil
}

// ListAlerts returns the firing alerts, oldest first.
func (s *Store) ListAlerts(ctx context.Context) ([]hookd.Alert, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, scope, endpoint_id, tenant_id, since, success_rate,
		attempts, failed, updated_at FROM alerts ORDER BY since, key`)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", translate(err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (hookd.Alert, error) {
		var a hookd.Alert
		err := r.Scan(&a.Key, &a.Scope, &a.EndpointID, &a.TenantID, &a.Since, &a.SuccessRate, &a.Attempts, &a.Failed, &a.UpdatedAt)
		a.Since, a.UpdatedAt = a.Since.UTC(), a.UpdatedAt.UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", translate(err))
	}
	return list, nil
}

// ingestNotice stores an operational event and its deliveries inside tx, as
// IngestEvents does.
func ingestNotice(ctx context.Context, tx pgx.Tx, notices ...*hookd.NewEvent) error {
	var evs []hookd.NewEvent
	for _, ne := range notices {
		if ne != nil {
			evs = append(evs, *ne)
		}
	}
	if len(evs) == 0 {
		return nil
	}
	_, err := ingestTx(ctx, tx, evs, make([]hookd.IngestResult, len(evs)), nil)
	return err
}
