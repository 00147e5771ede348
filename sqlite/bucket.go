package sqlite

import (
	"github.com/hookd/hookd"

	"context"
	"database/sql"
	"fmt"
	"time"
)

// bucket is an endpoint's rate-limit token bucket (see hookd.RateBucket).
type bucket = hookd.RateBucket

// Statements of the rate-limit buckets, prepared once on the writer.
const (
	qBuckets = `SELECT e.id, e.rate_limit_per_second, e.rate_tokens, e.rate_updated_at
		FROM endpoints e WHERE e.rate_limit_per_second > 0 AND ` + dueEndpoint
	qSpendBucket = `UPDATE endpoints SET rate_tokens = ?2,
			rate_updated_at = max(rate_updated_at, ?3) WHERE id = ?1`
)

// readBuckets returns the buckets of the eligible rate-limited endpoints
// (?1 now, ?3 the excluded ids). The claim runs in the writer's IMMEDIATE
// transaction, so nobody else spends them before it commits.
func (s *Store) readBuckets(ctx context.Context, tx *sql.Tx, now int64, excl string) (map[string]bucket, error) {
	rows, err := s.query(ctx, tx, qBuckets, now, nil, excl)
	if err != nil {
		return nil, fmt.Errorf("read buckets: %w", err)
	}
	defer rows.Close()
	out := map[string]bucket{}
	for rows.Next() {
		var id string
		var b bucket
		var updated int64
		if err := rows.Scan(&id, &b.Rate, &b.Tokens, &updated); err != nil {
			return nil, fmt.Errorf("read buckets: %w", err)
		}
		b.Updated = fromMicros(updated)
		out[id] = b
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read buckets: %w", err)
	}
	return out, nil
}

// spendBuckets stores each bucket's content after spent[id] tokens were
// taken at now; the time only moves forward.
func (s *Store) spendBuckets(ctx context.Context, tx *sql.Tx, now time.Time, buckets map[string]bucket, spent map[string]int) error {
	for id, n := range spent {
		b, ok := buckets[id]
		if !ok || n == 0 {
			continue
		}
		_, err := s.exec(ctx, tx, qSpendBucket,
			id, max(0, b.Available(now)-float64(n)), micros(now))
		if err != nil {
			return fmt.Errorf("spend bucket: %w", err)
		}
	}
	return nil
}
