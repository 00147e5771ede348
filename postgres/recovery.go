package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// RecoveredEndpoints returns the endpoints to auto-replay (see hookd.Store):
// one probe of deliveries_dead per endpoint that has a recorded success.
func (s *Store) RecoveredEndpoints(ctx context.Context) ([]hookd.Recovery, error) {
	rows, err := s.pool.Query(ctx, `SELECT e.id, e.last_success_at FROM endpoints e
		WHERE NOT e.disabled AND e.circuit_state = 'closed' AND e.last_success_at IS NOT NULL
		AND EXISTS (SELECT 1 FROM deliveries d
			WHERE d.endpoint_id = e.id AND d.status = 'dead' AND d.updated_at < e.last_success_at)
		ORDER BY e.id`)
	if err != nil {
		return nil, fmt.Errorf("recovered endpoints: %w", translate(err))
	}
	var out []hookd.Recovery
	var r hookd.Recovery
	var at time.Time
	_, err = pgx.ForEachRow(rows, []any{&r.EndpointID, &at}, func() error {
		out = append(out, hookd.Recovery{EndpointID: r.EndpointID, SucceededAt: at.UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recovered endpoints: %w", translate(err))
	}
	return out, nil
}
