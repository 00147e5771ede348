package dispatch

import (
	"context"
	"time"

	"github.com/hookd/hookd"
)

// Store is the part of hookd.Store the dispatcher calls: claiming, releasing
// and completing deliveries. Both backends (package sqlite and package
// postgres) implement it; their behaviour is the hookd.Store contract,
// checked by package storetest. A store may also implement hookd.Exclusive
// (refill in the completion write) and hookd.Waker (wake-ups from other
// nodes); the dispatcher looks for both.
type Store interface {
	ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error)
	ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error
	ReleaseLeasesExpiringAt(ctx context.Context, owner string, leaseExpiresAt time.Time) (int, error)
	CompleteAttempts(ctx context.Context, cs []hookd.Completion, policy hookd.CircuitPolicy) error
	CompleteAndClaim(ctx context.Context, cs []hookd.Completion, policy hookd.CircuitPolicy, r hookd.ClaimRequest) ([]hookd.Claim, error)
}
