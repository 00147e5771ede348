package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// Purge deletes at most limit succeeded deliveries created before before
// (their attempts go with them, ON DELETE CASCADE) and then at most limit
// events created before before that have no delivery left. Ids sort by
// creation time, so "created before" is an id range on the primary keys.
func (s *Store) Purge(ctx context.Context, before time.Time, limit int) (deliveries, events int, err error) {
	if limit <= 0 {
		return 0, 0, nil
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// MATERIALIZED: the LIMIT holds whatever the plan (see leaseUnlimited).
		tag, err := tx.Exec(ctx, `WITH picked AS MATERIALIZED (
			SELECT id FROM deliveries WHERE status = 'succeeded' AND id < $1 ORDER BY id LIMIT $2
			FOR UPDATE SKIP LOCKED)
			DELETE FROM deliveries WHERE id IN (SELECT id FROM picked)`,
			hookd.IDBefore(hookd.PrefixDelivery, before), limit)
		if err != nil {
			return err
		}
		deliveries = int(tag.RowsAffected())
		tag, err = tx.Exec(ctx, `WITH picked AS MATERIALIZED (
			SELECT e.id FROM events e WHERE e.id < $1
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
			ORDER BY e.id LIMIT $2 FOR UPDATE SKIP LOCKED)
			DELETE FROM events WHERE id IN (SELECT id FROM picked)`,
			hookd.IDBefore(hookd.PrefixEvent, before), limit)
		if err != nil {
			return err
		}
		events = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("purge: %w", err)
	}
	return deliveries, events, nil
}
