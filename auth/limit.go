package auth

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// Defaults of the API rate limiter.
const (
	// DefaultAPIRateLimit is the requests per second of a key without a
	// limit of its own: 0, no limit.
	DefaultAPIRateLimit = 0
	// holdFor is how long tokens a node took from the shared bucket stay
	// usable there; unused ones are dropped (the limit only gets stricter)
	// so that one node cannot sit on tokens the others need.
	holdFor = time.Second
	// chunkShare is the part of the burst a node takes from the shared
	// bucket at once: a quarter, so that 4 requests cost one write.
	chunkShare = 4
)

// TokenStore is the shared bucket store of a multi-node deployment
// (hookd.Store.TakeTokens).
type TokenStore interface {
	TakeTokens(ctx context.Context, r hookd.TokenRequest) (hookd.TokenGrant, error)
}

// LimiterOptions configures a Limiter.
type LimiterOptions struct {
	// Default is the requests per second of keys without their own
	// rate_limit_per_second; 0: unlimited.
	Default float64
	// Shared, when set, holds the buckets in the store so that the limit
	// holds across every node: each node takes tokens in chunks (a quarter
	// of the burst), so a request costs no write of its own. When nil the
	// buckets live in this process (SQLite: one process holds the store).
	Shared TokenStore
	Now    func() time.Time
	Logger *slog.Logger
}

// Limiter is the per-key API rate limit: a token bucket per key holding at
// most Burst = max(1, rate) tokens, refilled at rate per second. A request
// passes while the bucket holds at least one token and then spends its
// cost (one, or the events of a batch), which may leave the bucket in
// debt: a batch larger than the burst passes, and the key waits for the
// debt to refill. Safe for concurrent use.
type Limiter struct {
	opts LimiterOptions

	mu      sync.Mutex
	buckets map[string]*keyBucket
}

type keyBucket struct {
	mu sync.Mutex
	// Local mode: the bucket itself.
	tokens  float64
	updated time.Time
	// Shared mode: tokens this node took, until heldUntil; the shared
	// bucket's content after the last take; no take before deniedUntil.
	held        float64
	heldUntil   time.Time
	remote      float64
	deniedUntil time.Time
	used        time.Time
}

// Decision is the answer of Limiter.Take.
type Decision struct {
	// Limited is false for a key without a limit (no headers to send).
	Limited bool
	Allowed bool
	// Limit is the burst, Remaining the whole tokens left (on several nodes:
	// those this node holds plus what the shared bucket held at its last
	// take), Reset the time until the bucket is full.
	Limit      int
	Remaining  int
	Reset      time.Duration
	RetryAfter time.Duration // when not Allowed
}

// NewLimiter returns a Limiter.
func NewLimiter(opts LimiterOptions) *Limiter {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Limiter{opts: opts, buckets: map[string]*keyBucket{}}
}

// Rate returns the requests per second that apply to p (0: unlimited).
func (l *Limiter) Rate(p Principal) float64 {
	if p.RateLimit != nil {
		return *p.RateLimit
	}
	return l.opts.Default
}

// Take spends cost tokens of p's bucket. A store error in shared mode lets
// the request through (logged): the limiter never takes the API down.
func (l *Limiter) Take(ctx context.Context, p Principal, cost int) Decision {
	if l == nil {
		return Decision{Allowed: true}
	}
	rate := l.Rate(p)
	if rate <= 0 || cost <= 0 {
		return Decision{Allowed: true}
	}
	burst := max(1, rate)
	now := l.opts.Now()
	b := l.bucket(p.KeyID, now)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used = now
	d := Decision{Limited: true, Limit: int(math.Floor(burst))}
	if l.opts.Shared == nil {
		l.takeLocal(b, rate, burst, float64(cost), now, &d)
	} else {
		l.takeShared(ctx, p.KeyID, b, rate, burst, float64(cost), now, &d)
	}
	return d
}

func (l *Limiter) takeLocal(b *keyBucket, rate, burst, cost float64, now time.Time, d *Decision) {
	r := hookd.TokenRequest{Rate: rate, Burst: burst, Need: cost, Want: cost, Now: now}
	updated := b.updated
	if updated.IsZero() {
		b.tokens = burst
		updated = now
	}
	g := r.Take(b.tokens, updated)
	if g.Granted == 0 {
		d.RetryAfter = wait(1-g.Remaining, rate)
	} else {
		b.tokens, b.updated = g.Remaining, now
		d.Allowed = true
	}
	fill(d, g.Remaining, rate, burst)
}

func (l *Limiter) takeShared(ctx context.Context, key string, b *keyBucket, rate, burst, cost float64, now time.Time, d *Decision) {
	if now.Before(b.deniedUntil) {
		d.RetryAfter = b.deniedUntil.Sub(now)
		fill(d, 0, rate, burst)
		return
	}
	if !now.Before(b.heldUntil) {
		b.held = 0
	}
	if b.held >= cost {
		b.held -= cost
		d.Allowed = true
		fill(d, b.held+max(0, b.remote), rate, burst)
		return
	}
	need := cost - b.held
	chunk := math.Ceil(burst / chunkShare)
	g, err := l.opts.Shared.TakeTokens(ctx, hookd.TokenRequest{
		Bucket: key, Rate: rate, Burst: burst,
		Need: need, Want: max(need, chunk), Now: now,
	})
	if err != nil {
		l.opts.Logger.WarnContext(ctx, "auth: rate limit store unavailable; request let through", "key_id", key, "err", err)
		d.Allowed, d.Limited = true, false
		return
	}
	b.remote = g.Remaining
	if g.Granted == 0 {
		// Ask again once a whole chunk has refilled, not one token: under a
		// flood every take then brings a chunk, not a single request.
		d.RetryAfter = wait(chunk-g.Remaining, rate)
		b.deniedUntil = now.Add(d.RetryAfter)
		fill(d, 0, rate, burst)
		return
	}
	b.held += g.Granted - cost
	b.heldUntil = now.Add(holdFor)
	d.Allowed = true
	fill(d, b.held+max(0, g.Remaining), rate, burst)
}

// fill sets Remaining and Reset from the tokens left.
func fill(d *Decision, left, rate, burst float64) {
	d.Remaining = int(math.Floor(max(0, left) + 1e-9))
	d.Reset = wait(burst-left, rate)
}

// wait is the time for rate to refill tokens.
func wait(tokens, rate float64) time.Duration {
	if tokens <= 0 {
		return 0
	}
	return time.Duration(tokens / rate * float64(time.Second))
}

// bucket returns key's bucket, dropping buckets idle for a minute when the
// map grows large.
func (l *Limiter) bucket(key string, now time.Time) *keyBucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= 10000 {
			for k, o := range l.buckets {
				if o.mu.TryLock() {
					if now.Sub(o.used) > time.Minute {
						delete(l.buckets, k)
					}
					o.mu.Unlock()
				}
			}
		}
		b = &keyBucket{}
		l.buckets[key] = b
	}
	return b
}
