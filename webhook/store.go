package webhook

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// A Store remembers which webhook ids are being processed or were processed,
// so the Middleware runs the handler once per id even when the sender
// delivers it again, or several times at once. Implementations: MemoryStore
// in this package, redisstore (Redis) and sqlstore (SQLite, Postgres) in
// their own packages, so that importing webhook pulls in neither go-redis nor
// a SQL driver. Every implementation passes the storetest conformance suite.
//
// A key is in one of three states: absent, processing (claimed, until its
// lease expires) or done (until its TTL expires). An expired entry counts as
// absent. All methods are safe for concurrent use, across processes for the
// shared stores.
type Store interface {
	// Claim atomically claims key for processing for the duration of lease.
	// When key is absent (or expired) it returns State Claimed and a fresh
	// Token that Release needs. Otherwise it leaves the key alone and returns
	// State Processing or Done, with ExpiresAt the end of the current lease
	// or TTL.
	Claim(ctx context.Context, key string, lease time.Duration) (Claim, error)
	// Complete marks key done for ttl, whatever its state: the message was
	// processed successfully.
	Complete(ctx context.Context, key string, ttl time.Duration) error
	// Release deletes key if it is still processing under token, so the next
	// delivery can claim it. It does nothing when the claim was lost (its
	// lease expired and another delivery claimed the key) or the key is done.
	Release(ctx context.Context, key, token string) error
}

// ClaimState is the outcome of Store.Claim.
type ClaimState int

// The outcomes of Store.Claim.
const (
	// Claimed: the caller holds the key and should process the message.
	Claimed ClaimState = iota + 1
	// Processing: another delivery holds the key; try again after ExpiresAt.
	Processing
	// Done: the message was processed; do not process it again.
	Done
)

// String returns "claimed", "processing" or "done".
func (s ClaimState) String() string {
	switch s {
	case Claimed:
		return "claimed"
	case Processing:
		return "processing"
	case Done:
		return "done"
	}
	return "unknown"
}

// Claim is the result of Store.Claim.
type Claim struct {
	State ClaimState
	// Token identifies this claim (State Claimed only); pass it to Release.
	Token string
	// ExpiresAt is when the lease (Claimed, Processing) or the done TTL
	// (Done) ends. It may be zero when the store cannot tell.
	ExpiresAt time.Time
}

// NewToken returns a random claim token, for Store implementations.
func NewToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
