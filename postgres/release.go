package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReleaseLeasesExpiringAt clears the leases one claim call of owner took: those
// leased to owner until exactly leaseExpiresAt (see hookd.Store).
func (s *Store) ReleaseLeasesExpiringAt(ctx context.Context, owner string, leaseExpiresAt time.Time) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires_at = NULL
			WHERE status = 'pending' AND lease_owner = $1 AND lease_expires_at = $2`, owner, ts(leaseExpiresAt))
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if n > 0 {
			return notify(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release leases of one claim: %w", err)
	}
	return n, nil
}
