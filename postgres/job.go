package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// AcquireJobLease takes or renews the lease of the periodic job named job
// for owner until now+ttl, through its job_leases row. It reports true when
// the lease was free, expired or already owner's, and false while another
// owner holds an unexpired lease. A dead node's lease is taken over once it
// expires.
func (s *Store) AcquireJobLease(ctx context.Context, job, owner string, now time.Time, ttl time.Duration) (bool, error) {
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO job_leases (job, owner, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE job_leases.owner = excluded.owner OR job_leases.expires_at <= $4
		RETURNING owner`, job, owner, ts(now.Add(ttl)), ts(now)).Scan(&got)
	if isNoRows(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("acquire job lease: %w", translate(err))
	}
	return true, nil
}

// Setting returns a stored setting or ENOTFOUND.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if isNoRows(err) {
		return "", hookd.Errorf(hookd.ENOTFOUND, "setting not found")
	} else if err != nil {
		return "", fmt.Errorf("setting: %w", translate(err))
	}
	return v, nil
}

// PutSettingIfAbsent stores a setting unless the key exists and reports
// whether it stored.
func (s *Store) PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error) {
	var stored bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value)
		stored = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("put setting: %w", err)
	}
	return stored, nil
}
