package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AcquireJobLease takes or renews the lease of job for owner until now+ttl.
// It returns true when the lease was free, expired or already owner's, and
// false while another owner holds an unexpired one.
func (s *Store) AcquireJobLease(ctx context.Context, job, owner string, now time.Time, ttl time.Duration) (bool, error) {
	var n int64
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO job_leases (job, owner, expires_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE job_leases.owner = excluded.owner OR job_leases.expires_at <= ?4`,
			job, owner, micros(now.Add(ttl)), micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acquire job lease: %w", err)
	}
	return n > 0, nil
}
