package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hookd/hookd"
)

// Defaults of KeysOptions.
const (
	// DefaultKeyCacheTTL is how long a looked-up key (or its absence) is
	// trusted before the store is asked again: a revocation reaches every
	// node within this time (the contract is 5 s).
	DefaultKeyCacheTTL = 2 * time.Second
	// DefaultKeyCacheSize bounds the cached lookups.
	DefaultKeyCacheSize = 10000
	// TouchInterval is the least time between two writes of a key's
	// last_used_at by one node (the store also refuses closer ones).
	TouchInterval = time.Minute
)

// Key and session secret prefixes.
const (
	KeyPrefix     = "hk_"
	SessionPrefix = "hks_"
)

// KeyStore is what Keys needs of the store.
type KeyStore interface {
	APIKeyByHash(ctx context.Context, hash [32]byte) (*hookd.APIKey, error)
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// KeysOptions configures Keys; every field has a default.
type KeysOptions struct {
	// AdminHash is the SHA-256 of the server's own admin key (--api-key or
	// the generated one); the zero value accepts no such key.
	AdminHash [32]byte
	// TTL of a cached lookup (default DefaultKeyCacheTTL; at most 5 s).
	TTL time.Duration
	// Size bounds the cache (default DefaultKeyCacheSize).
	Size int
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Keys authenticates secrets (API keys and session cookies): the SHA-256
// of the secret is looked up in the store by index, through a cache whose
// entries live TTL, so that a revoked key stops working on every node
// within TTL. It is safe for concurrent use.
type Keys struct {
	store KeyStore
	opts  KeysOptions

	mu    sync.Mutex
	cache map[[32]byte]*cached
}

type cached struct {
	key     *hookd.APIKey // nil: no such key
	fetched time.Time
	touched time.Time // last TouchAPIKey by this node
}

// NewKeys returns Keys over store.
func NewKeys(store KeyStore, opts KeysOptions) *Keys {
	if opts.TTL <= 0 || opts.TTL > 5*time.Second {
		opts.TTL = DefaultKeyCacheTTL
	}
	if opts.Size <= 0 {
		opts.Size = DefaultKeyCacheSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Keys{store: store, opts: opts, cache: map[[32]byte]*cached{}}
}

// Authenticate returns the principal of secret, which must be a live key of
// kind (KindKey for Authorization: Bearer, KindSession for a cookie).
// Errors: EUNAUTHORIZED for an unknown, revoked or expired secret;
// EUNAVAILABLE when the store cannot answer.
func (k *Keys) Authenticate(ctx context.Context, secret string, kind hookd.KeyKind) (Principal, error) {
	sum := sha256.Sum256([]byte(secret))
	var zero [32]byte
	if kind == hookd.KindKey && k.opts.AdminHash != zero && subtle.ConstantTimeCompare(sum[:], k.opts.AdminHash[:]) == 1 {
		return Principal{KeyID: AdminKeyID, Kind: hookd.KindKey, Admin: true}, nil
	}
	now := k.opts.Now()
	c, err := k.lookup(ctx, sum, now)
	if err != nil {
		return Principal{}, err
	}
	key := c.key
	// The store found the row by its hash; compare again in constant time
	// so that no code path depends on a non-constant-time equality.
	if key == nil || subtle.ConstantTimeCompare(key.Hash[:], sum[:]) != 1 || key.Kind != kind || !key.Live(now) {
		if kind == hookd.KindSession {
			return Principal{}, hookd.Errorf(hookd.EUNAUTHORIZED, "session expired or signed out")
		}
		return Principal{}, hookd.Errorf(hookd.EUNAUTHORIZED, "invalid API key")
	}
	k.touch(ctx, c, now)
	return Principal{KeyID: key.ID, Kind: key.Kind, Admin: key.Admin, TenantID: key.TenantID, RateLimit: key.RateLimitPerSecond}, nil
}

// lookup returns the cache entry of sum, fetching it when missing or older
// than the TTL.
func (k *Keys) lookup(ctx context.Context, sum [32]byte, now time.Time) (*cached, error) {
	k.mu.Lock()
	c, ok := k.cache[sum]
	k.mu.Unlock()
	if ok && now.Sub(c.fetched) < k.opts.TTL && !now.Before(c.fetched) {
		return c, nil
	}
	key, err := k.store.APIKeyByHash(ctx, sum)
	if err != nil && hookd.ErrorCode(err) != hookd.ENOTFOUND {
		return nil, err
	}
	fresh := &cached{key: key, fetched: now}
	k.mu.Lock()
	defer k.mu.Unlock()
	if old, ok := k.cache[sum]; ok {
		fresh.touched = old.touched
	}
	if len(k.cache) >= k.opts.Size {
		k.evict(now)
	}
	k.cache[sum] = fresh
	return fresh, nil
}

// evict drops the expired entries, or every entry when none has expired
// (callers hold mu).
func (k *Keys) evict(now time.Time) {
	for h, c := range k.cache {
		if now.Sub(c.fetched) >= k.opts.TTL {
			delete(k.cache, h)
		}
	}
	if len(k.cache) >= k.opts.Size {
		clear(k.cache)
	}
}

// touch writes the key's last use at most once per TouchInterval from this
// node, in the request (a short write once a minute), with a bounded wait
// that does not depend on the client staying.
func (k *Keys) touch(ctx context.Context, c *cached, now time.Time) {
	k.mu.Lock()
	last := c.touched
	if last.IsZero() || c.key.LastUsedAt.After(last) {
		last = c.key.LastUsedAt
	}
	due := last.IsZero() || now.Sub(last) >= TouchInterval
	if due {
		c.touched = now
	}
	k.mu.Unlock()
	if !due {
		return
	}
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := k.store.TouchAPIKey(tctx, c.key.ID, now); err != nil {
		k.opts.Logger.WarnContext(ctx, "auth: record key use", "key_id", c.key.ID, "err", err)
	}
}

// Forget drops every cached lookup (after a revocation on this node, so it
// takes effect here at once).
func (k *Keys) Forget() {
	k.mu.Lock()
	clear(k.cache)
	k.mu.Unlock()
}

// NewSecret returns prefix + 32 random bytes in URL-safe base64 (256 bits:
// a fast hash is the right way to store it).
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hint is the part of a secret shown in lists: its prefix and 4 more
// characters.
func Hint(secret string) string {
	i := strings.IndexByte(secret, '_') + 1
	return secret[:min(len(secret), i+4)]
}

// NewKey builds a key (not stored) named name, admin or of tenant, created
// at now, and returns it with its secret (to show once).
func NewKey(name string, admin bool, tenant string, rate *float64, now time.Time) (*hookd.APIKey, string) {
	secret := NewSecret(KeyPrefix)
	return &hookd.APIKey{
		ID:                 hookd.NewID(hookd.PrefixAPIKey, now),
		Kind:               hookd.KindKey,
		Name:               name,
		Admin:              admin,
		TenantID:           tenant,
		Hash:               sha256.Sum256([]byte(secret)),
		Hint:               Hint(secret),
		RateLimitPerSecond: rate,
		CreatedAt:          now.UTC().Truncate(time.Microsecond),
	}, secret
}
