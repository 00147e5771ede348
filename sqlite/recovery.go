package sqlite

import (
	"context"
	"fmt"

	"github.com/hookd/hookd"
)

// RecoveredEndpoints returns the endpoints to auto-replay (see hookd.Store):
// one seek in deliveries_dead per endpoint that has a recorded success.
func (s *Store) RecoveredEndpoints(ctx context.Context) ([]hookd.Recovery, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT e.id, e.last_success_at FROM endpoints e
		WHERE e.disabled = 0 AND e.circuit_state = 'closed' AND e.last_success_at > 0
		AND EXISTS (SELECT 1 FROM deliveries d INDEXED BY deliveries_dead
			WHERE d.endpoint_id = e.id AND d.status = 'dead' AND d.updated_at < e.last_success_at)
		ORDER BY e.id`)
	if err != nil {
		return nil, fmt.Errorf("recovered endpoints: %w", mapErr(err))
	}
	defer rows.Close()
	var out []hookd.Recovery
	for rows.Next() {
		var r hookd.Recovery
		var at int64
		if err := rows.Scan(&r.EndpointID, &at); err != nil {
			return nil, fmt.Errorf("recovered endpoints: %w", mapErr(err))
		}
		r.SucceededAt = fromMicros(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recovered endpoints: %w", mapErr(err))
	}
	return out, nil
}
