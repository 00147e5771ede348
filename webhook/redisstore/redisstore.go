// Package redisstore is a webhook.Store on Redis (go-redis v9), shared by
// every replica of a receiver. A claim is SET key "p:<token>" NX PX lease, so
// Redis expires an abandoned claim by itself; done is SET key "d" PX ttl; a
// release deletes the key only while it still holds the caller's token (one
// Lua script, atomic). It lives in its own package so that importing webhook
// does not pull in go-redis. It must not import any other hookd package
// except webhook.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookd/hookd/webhook"
)

// DefaultPrefix is prepended to every key unless Options says otherwise.
const DefaultPrefix = "webhook:idem:"

// Options configures a Store.
type Options struct {
	// Prefix is prepended to every webhook-id to form the Redis key
	// (default DefaultPrefix). Give each receiver (or tenant) its own.
	Prefix string
	// Now gives the current time, used only to report ExpiresAt
	// (default time.Now); expiry itself is Redis's.
	Now func() time.Time
}

// Store is a webhook.Store on Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ webhook.Store = (*Store)(nil)

// New returns a Store using rdb (a *redis.Client, *redis.ClusterClient or
// any redis.UniversalClient). It does not connect; the first call does.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{rdb: rdb, prefix: opts.Prefix, now: opts.Now}
}

const (
	processingPrefix = "p:"
	doneValue        = "d"
)

// claimScript sets KEYS[1] to ARGV[1] for ARGV[2] ms when absent and returns
// {1, lease}; otherwise {2, pttl} while processing or {3, pttl} when done.
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, tonumber(ARGV[2])}
end
local v = redis.call('GET', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if string.sub(v, 1, 2) == 'p:' then
  return {2, ttl}
end
return {3, ttl}
`)

// releaseScript deletes KEYS[1] only if it still holds ARGV[1].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Claim implements webhook.Store.
func (s *Store) Claim(ctx context.Context, key string, lease time.Duration) (webhook.Claim, error) {
	token := webhook.NewToken()
	now := s.now()
	res, err := claimScript.Run(ctx, s.rdb, []string{s.prefix + key}, processingPrefix+token, millis(lease)).Int64Slice()
	if err != nil {
		return webhook.Claim{}, fmt.Errorf("claim: %w", err)
	}
	if len(res) != 2 {
		return webhook.Claim{}, fmt.Errorf("claim: unexpected reply %v", res)
	}
	c := webhook.Claim{State: webhook.ClaimState(res[0])}
	if res[1] > 0 {
		c.ExpiresAt = now.Add(time.Duration(res[1]) * time.Millisecond)
	}
	switch c.State {
	case webhook.Claimed:
		c.Token = token
	case webhook.Processing, webhook.Done:
	default:
		return webhook.Claim{}, fmt.Errorf("claim: unexpected state %d", res[0])
	}
	return c, nil
}

// Complete implements webhook.Store.
func (s *Store) Complete(ctx context.Context, key string, ttl time.Duration) error {
	// A TTL under 1 ms would mean "no expiry" (0) or KEEPTTL (-1) to go-redis.
	ttl = time.Duration(millis(ttl)) * time.Millisecond
	if err := s.rdb.Set(ctx, s.prefix+key, doneValue, ttl).Err(); err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	return nil
}

// Release implements webhook.Store.
func (s *Store) Release(ctx context.Context, key, token string) error {
	err := releaseScript.Run(ctx, s.rdb, []string{s.prefix + key}, processingPrefix+token).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

// millis returns d in whole milliseconds, at least 1 (PX rejects 0).
func millis(d time.Duration) int64 {
	return max(d.Milliseconds(), 1)
}

// String describes the store without its connection details.
func (s *Store) String() string {
	return "redisstore(" + strings.TrimSuffix(s.prefix, ":") + ")"
}
