package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"
)

// bucket is an endpoint's rate-limit token bucket as stored on its row
// (rate_tokens, rate_updated_at).
type bucket struct {
	rate    float64   // tokens per second; the burst is max(1, rate)
	tokens  float64   // content at updated
	updated time.Time // zero: never spent, the bucket is full
}

// available returns the bucket's content at now: the stored tokens plus
// the refill since updated, capped at the burst. A now before updated
// refills nothing.
func (b bucket) available(now time.Time) float64 {
	burst := max(1, b.rate)
	if b.updated.IsZero() {
		return burst
	}
	elapsed := max(0, now.Sub(b.updated).Seconds())
	return min(burst, b.tokens+b.rate*elapsed)
}

// whole is how many deliveries x tokens pay for; the epsilon absorbs float
// error such as a refill to 0.9999999.
func whole(x float64) int {
	return int(math.Floor(x + 1e-9))
}

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
		if err := rows.Scan(&id, &b.rate, &b.tokens, &updated); err != nil {
			return nil, fmt.Errorf("read buckets: %w", err)
		}
		b.updated = fromMicros(updated)
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
			id, max(0, b.available(now)-float64(n)), micros(now))
		if err != nil {
			return fmt.Errorf("spend bucket: %w", err)
		}
	}
	return nil
}
