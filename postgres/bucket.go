package postgres

import (
	"github.com/hookd/hookd"

	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// availableTokens is the SQL of an endpoint's rate-limit bucket content at
// $1 (alias e): the stored tokens plus the refill since rate_updated_at,
// capped at the burst; a bucket never spent (NULL time) is full. Keep it in
// step with bucket.available.
const availableTokens = `least(greatest(1, e.rate_limit_per_second), CASE WHEN e.rate_updated_at IS NULL
	THEN greatest(1, e.rate_limit_per_second)
	ELSE e.rate_tokens + e.rate_limit_per_second * greatest(0, extract(epoch FROM $1 - e.rate_updated_at)::float8) END)`

// wholeTokens is the SQL of how many deliveries availableTokens allows.
const wholeTokens = `floor(` + availableTokens + ` + 1e-9)::int`

// bucket is an endpoint's rate-limit token bucket (see hookd.RateBucket).
type bucket = hookd.RateBucket

// lockBuckets locks the rows of the rate-limited endpoints eps (FOR NO KEY
// UPDATE SKIP LOCKED, so it never waits and never deadlocks with a
// completion that holds an endpoint row) and returns their buckets, read
// fresh under the lock. An endpoint locked elsewhere is missing from the
// result: the caller takes none of its deliveries this time.
func lockBuckets(ctx context.Context, tx pgx.Tx, eps []string) (map[string]bucket, error) {
	rows, err := tx.Query(ctx, `SELECT id, rate_limit_per_second, rate_tokens, rate_updated_at
		FROM endpoints WHERE id = ANY($1) AND rate_limit_per_second > 0
		ORDER BY id FOR NO KEY UPDATE SKIP LOCKED`, eps)
	if err != nil {
		return nil, fmt.Errorf("lock buckets: %w", err)
	}
	out := make(map[string]bucket, len(eps))
	var id string
	var b bucket
	var updated *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &b.Rate, &b.Tokens, &updated}, func() error {
		b.Updated = fromNull(updated)
		out[id] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock buckets: %w", err)
	}
	return out, nil
}

// spendBuckets stores each bucket's content after spent[id] tokens were
// taken at now. The time only moves forward, so a node whose clock lags
// cannot hand out the same refill twice.
func spendBuckets(ctx context.Context, tx pgx.Tx, now time.Time, buckets map[string]bucket, spent map[string]int) error {
	ids := make([]string, 0, len(spent))
	tokens := make([]float64, 0, len(spent))
	for id, n := range spent {
		b, ok := buckets[id]
		if !ok || n == 0 {
			continue
		}
		ids = append(ids, id)
		tokens = append(tokens, max(0, b.Available(now)-float64(n)))
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `UPDATE endpoints e SET rate_tokens = v.tokens,
			rate_updated_at = greatest(e.rate_updated_at, $1)
		FROM unnest($2::text[], $3::float8[]) AS v(id, tokens) WHERE e.id = v.id`, now, ids, tokens)
	if err != nil {
		return fmt.Errorf("spend buckets: %w", err)
	}
	return nil
}
