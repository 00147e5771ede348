package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ReleaseLeasesExpiringAt clears the leases one claim call of owner took: those
// leased to owner until exactly leaseExpiresAt (see hookd.Store).
func (s *Store) ReleaseLeasesExpiringAt(ctx context.Context, owner string, leaseExpiresAt time.Time) (int, error) {
	var n int64
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires_at = 0
			WHERE status = 'pending' AND lease_owner = ? AND lease_expires_at = ?`, owner, micros(leaseExpiresAt))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("release leases of one claim: %w", err)
	}
	return int(n), nil
}
