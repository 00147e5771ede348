package hookd

import "time"

// PrefixAPIKey is the prefix of API key ids (the id names a key in the API;
// the secret key itself starts with "hk_").
const PrefixAPIKey = "key_"

// KeyKind tells API keys from dashboard sessions: both are bearer secrets
// stored hashed in the same table, looked up and revoked the same way.
type KeyKind string

const (
	// KindKey is an API key (Authorization: Bearer hk_…).
	KindKey KeyKind = "key"
	// KindSession is a dashboard session (a cookie), made by redeeming a
	// portal link or by signing in with an API key; it expires.
	KindSession KeyKind = "session"
)

// APIKey is a stored credential. The secret itself is never stored: only
// its SHA-256, by which it is looked up.
type APIKey struct {
	ID   string // "key_…"
	Kind KeyKind
	Name string
	// Admin keys see every tenant. A key that is not Admin is confined to
	// TenantID (which is then non-empty).
	Admin    bool
	TenantID string
	Hash     [32]byte // SHA-256 of the secret
	// Hint is the start of the secret ("hk_AbCd"), shown in lists so that a
	// person can tell keys apart.
	Hint string
	// RateLimitPerSecond, when non-nil, is this key's API request limit
	// (0: unlimited); nil means the server default (--api-rate-limit).
	RateLimitPerSecond *float64
	// ParentID is, for a session made from an API key, that key: revoking
	// the key revokes its sessions.
	ParentID string
	// Nonce is, for a session made from a portal link, the link's nonce:
	// unique, so a link is redeemed at most once.
	Nonce      string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	ExpiresAt  time.Time // zero: never expires
	RevokedAt  time.Time // zero: live
}

// Live reports whether k may authenticate at now: not revoked, not expired.
func (k *APIKey) Live(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// APIKeyFilter selects keys in ListAPIKeys: live ones (not revoked, not
// expired at Now), of one tenant when TenantID is non-nil (admin keys have
// no tenant and match only a nil TenantID), of one kind when Kind is set.
type APIKeyFilter struct {
	TenantID *string
	Kind     KeyKind
	Now      time.Time
	Page
}

// TokenRequest takes API rate-limit tokens from a bucket shared by every
// node (Store.TakeTokens). The bucket, named by Bucket, holds at most Burst
// tokens, starts full and refills at Rate tokens per second of Now.
type TokenRequest struct {
	Bucket string
	Rate   float64
	Burst  float64
	// Need is granted in full whenever the bucket holds at least one token,
	// even when that leaves it in debt (a batch of events larger than what
	// is left); Want (>= Need) is taken when the bucket holds it, else as
	// much as it holds.
	Need float64
	Want float64
	Now  time.Time
}

// TokenGrant is what TakeTokens took.
type TokenGrant struct {
	// Granted is 0 when the bucket held less than one token.
	Granted float64
	// Remaining is the bucket's content after the grant (negative: in debt);
	// with Granted 0 the wait until one token is (1-Remaining)/Rate.
	Remaining float64
}

// Take applies r to a bucket that held tokens at updated (zero updated: a
// new bucket, full) and returns the grant; the stores keep Remaining at
// max(updated, r.Now). Both stores use it, so the arithmetic is one.
func (r TokenRequest) Take(tokens float64, updated time.Time) TokenGrant {
	avail := r.Burst
	if !updated.IsZero() {
		avail = min(r.Burst, tokens+r.Rate*max(0, r.Now.Sub(updated).Seconds()))
	}
	if avail+1e-9 < 1 {
		return TokenGrant{Remaining: avail}
	}
	g := max(r.Need, min(r.Want, avail))
	return TokenGrant{Granted: g, Remaining: avail - g}
}
