package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

// DeliveryCounts counts pending and dead deliveries per endpoint.
func (s *Store) DeliveryCounts(ctx context.Context, tenantID *string) ([]hookd.EndpointDeliveryCounts, error) {
	q := `SELECT e.id, coalesce(c.pending, 0), coalesce(c.dead, 0), e.last_error, e.last_error_at
		FROM endpoints e LEFT JOIN (SELECT endpoint_id, count(*) FILTER (WHERE status = 'pending') AS pending,
			count(*) FILTER (WHERE status = 'dead') AS dead
			FROM deliveries WHERE status IN ('pending', 'dead') GROUP BY endpoint_id) c ON c.endpoint_id = e.id
		WHERE (c.endpoint_id IS NOT NULL OR e.last_error <> '')`
	var args []any
	if tenantID != nil {
		q += ` AND e.tenant_id = $1`
		args = append(args, *tenantID)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("delivery counts: %w", translate(err))
	}
	defer rows.Close()
	var out []hookd.EndpointDeliveryCounts
	for rows.Next() {
		var c hookd.EndpointDeliveryCounts
		var at *time.Time
		if err := rows.Scan(&c.EndpointID, &c.Pending, &c.Dead, &c.LastError, &at); err != nil {
			return nil, fmt.Errorf("delivery counts: %w", translate(err))
		}
		c.LastErrorAt = fromNull(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delivery counts: %w", translate(err))
	}
	return out, nil
}
