package sqlite

import (
	"context"
	"fmt"

	"github.com/hookd/hookd"
)

// DeliveryCounts counts pending and dead deliveries per endpoint.
func (s *Store) DeliveryCounts(ctx context.Context, tenantID *string) ([]hookd.EndpointDeliveryCounts, error) {
	q := `SELECT d.endpoint_id, sum(d.status = 'pending'), sum(d.status = 'dead') FROM deliveries d
		WHERE d.status IN ('pending', 'dead') GROUP BY d.endpoint_id`
	var args []any
	if tenantID != nil {
		q = `SELECT d.endpoint_id, sum(d.status = 'pending'), sum(d.status = 'dead') FROM deliveries d
			JOIN endpoints e ON e.id = d.endpoint_id
			WHERE d.status IN ('pending', 'dead') AND e.tenant_id = ? GROUP BY d.endpoint_id`
		args = append(args, *tenantID)
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("delivery counts: %w", mapErr(err))
	}
	defer rows.Close()
	var out []hookd.EndpointDeliveryCounts
	for rows.Next() {
		var c hookd.EndpointDeliveryCounts
		if err := rows.Scan(&c.EndpointID, &c.Pending, &c.Dead); err != nil {
			return nil, fmt.Errorf("delivery counts: %w", mapErr(err))
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delivery counts: %w", mapErr(err))
	}
	return out, nil
}
