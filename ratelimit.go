package hookd

import (
	"math"
	"time"
)

// RateBucket is an endpoint's rate-limit token bucket as the stores keep it
// on the endpoint row: it holds at most max(1, Rate) tokens, refills at Rate
// tokens per second, and every claimed delivery spends one token.
type RateBucket struct {
	Rate    float64   // tokens per second (the endpoint's RateLimitPerSecond)
	Tokens  float64   // content at Updated
	Updated time.Time // zero: never spent, the bucket is full
}

// Available returns the bucket's content at now: Tokens plus the refill
// since Updated, capped at the burst. A now before Updated (another node's
// clock behind) refills nothing.
func (b RateBucket) Available(now time.Time) float64 {
	burst := max(1, b.Rate)
	if b.Updated.IsZero() {
		return burst
	}
	elapsed := max(0, now.Sub(b.Updated).Seconds())
	return min(burst, b.Tokens+b.Rate*elapsed)
}

// Whole returns how many deliveries the bucket pays for at now; the epsilon
// absorbs float error such as a refill to 0.9999999.
func (b RateBucket) Whole(now time.Time) int {
	return int(math.Floor(b.Available(now) + 1e-9))
}
