package hookd

import (
	"context"
	"time"
)

// Store is the durable state of hookd. Two implementations exist (package
// sqlite and package postgres) and package storetest holds the conformance
// suite that both pass; a behaviour that differs between them is a bug.
//
// Conventions every implementation keeps:
//   - Times are stored with microsecond precision and returned in UTC.
//   - A missing row is an *Error with code ENOTFOUND; a unique-constraint
//     clash is ECONFLICT; a store that cannot reach its database returns
//     EUNAVAILABLE. Other driver errors are wrapped and returned as is.
//   - Lists are ordered by id descending (newest first) except ListAttempts
//     (oldest first). Page.Limit <= 0 means DefaultPageLimit; it is capped at
//     MaxPageLimit. The next cursor is the last id returned when more rows
//     exist, else "".
//   - Nothing half-written is ever visible: every method is one transaction.
type Store interface {
	// CreateEndpoint inserts e (ID, CreatedAt, UpdatedAt already set).
	CreateEndpoint(ctx context.Context, e *Endpoint) error
	// CreateEndpointWithin inserts e as CreateEndpoint does when one more
	// endpoint stays within q (counted in the same transaction, serialized
	// with every other bounded creation and move: see EndpointQuota), and
	// else returns ECONFLICT and inserts nothing.
	CreateEndpointWithin(ctx context.Context, e *Endpoint, q EndpointQuota) error
	// GetEndpoint returns the endpoint or ENOTFOUND.
	GetEndpoint(ctx context.Context, id string) (*Endpoint, error)
	// ListEndpoints lists endpoints, of one tenant when tenantID is non-nil.
	ListEndpoints(ctx context.Context, tenantID *string, page Page) ([]*Endpoint, string, error)
	// CountEndpoints counts the endpoints of one tenant.
	CountEndpoints(ctx context.Context, tenantID string) (int, error)
	// UpdateEndpointFields applies u to endpoint id in ONE transaction and
	// returns the endpoint as stored after it, or ENOTFOUND. It writes only
	// the columns of the fields u names (a concurrent change to another
	// field — a disable, a rotation, the circuit — is never undone) and
	// holds the row lock while it resolves u.Rotate against the stored
	// secrets, so concurrent rotations never lose a secret. An error of
	// u.Resolve (EINVALID) changes nothing. Every change to a stored
	// endpoint goes through here or through the completion methods, which
	// change only the disabled and circuit fields the same way.
	UpdateEndpointFields(ctx context.Context, id string, u EndpointUpdate) (*Endpoint, error)
	// DeleteEndpoint removes the endpoint with its deliveries and attempts,
	// or returns ENOTFOUND. Attempts in flight for it complete into nothing.
	DeleteEndpoint(ctx context.Context, id string) error

	// IngestEvents stores events and their deliveries in ONE transaction,
	// durably committed before it returns, and returns one result per event
	// in order. For each event: if IdempotencyKey is non-empty and an event
	// of the same tenant already has it (stored before or earlier in this
	// call), the result is that original event with Duplicate=true and no
	// deliveries when type and payload are the same (CheckDuplicate), and
	// ECONFLICT fails the whole call when they differ. Otherwise the event is inserted with one pending delivery
	// (NextAttemptAt = event CreatedAt) per endpoint that is not disabled, has
	// the same TenantID and Matches the type — or, when OnlyEndpointID is set,
	// for that endpoint alone (ENOTFOUND fails the whole call if it is gone).
	IngestEvents(ctx context.Context, events []NewEvent) ([]IngestResult, error)
	// IngestAndLease ingests exactly as IngestEvents does and, in the SAME
	// transaction, inserts some of the new deliveries already leased to
	// r.Owner until r.Now+r.Lease (lease at commit), returning them as
	// claims with the event and endpoint of the call, so that the committer
	// can hand them to its dispatcher without a claim. Nothing may be sent
	// before it returns (the commit). At most r.Limit deliveries are leased,
	// and a new delivery is leased only when ClaimDue(r) could take it too
	// and nothing older waits: its endpoint is enabled, its circuit closed,
	// it has no rate limit (rate-limited endpoints take the claim path), it
	// is not in r.ExcludeEndpoints, it has no due unleased delivery from
	// before this call (an endpoint's backlog is never overtaken), and,
	// with r.DefaultMaxInFlight > 0, it stays within its in-flight cap
	// counting every owner's unexpired leases (on Postgres an endpoint that
	// another transaction is claiming right now is skipped). The other new
	// deliveries are pending and unleased as with IngestEvents. With
	// r.Limit <= 0 it is IngestEvents and returns no claims.
	IngestAndLease(ctx context.Context, events []NewEvent, r ClaimRequest) ([]IngestResult, []Claim, error)
	// GetEvent returns the event or ENOTFOUND.
	GetEvent(ctx context.Context, id string) (*Event, error)
	// ListEvents lists events.
	ListEvents(ctx context.Context, f EventFilter) ([]*Event, string, error)

	// GetDelivery returns the delivery or ENOTFOUND.
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	// ListDeliveries lists the deliveries that match every field f sets
	// (see DeliveryFilter; the event type and time bounds as ReplayFilter
	// has them), newest first by id, one page at a time.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, string, error)
	// ListAttempts lists a delivery's attempts oldest first (by Number; the
	// cursor is the last Number as a decimal string), or ENOTFOUND when the
	// delivery does not exist.
	ListAttempts(ctx context.Context, deliveryID string, page Page) ([]*Attempt, string, error)

	// ClaimDue leases up to r.Limit due deliveries to r.Owner until
	// r.Now+r.Lease and returns them with their event and endpoint, oldest
	// NextAttemptAt first. Due means: status pending, NextAttemptAt <= Now,
	// no lease or an expired one (this is how a crashed node's work is
	// rescued), endpoint not disabled, endpoint circuit closed or its
	// OpenUntil <= Now, endpoint not in r.ExcludeEndpoints. Two concurrent
	// claims never return the same delivery.
	//
	// Rate limit: an endpoint with RateLimitPerSecond = r > 0 has a token
	// bucket stored with it (shared by every node) that holds at most
	// max(1, r) tokens, starts full and refills at r tokens per second of
	// claim time (Now). A claim returns at most floor(available tokens) of
	// that endpoint's deliveries and deducts one token per delivery it
	// returns, atomically with the leases, so concurrent claims never spend
	// the same tokens. A claim whose Now is earlier than the bucket's last
	// spend refills nothing. ReleaseDeliveries does not give tokens back. An
	// endpoint without tokens contributes nothing; it never keeps the claim
	// from returning other endpoints' work.
	ClaimDue(ctx context.Context, r ClaimRequest) ([]Claim, error)
	// ReleaseDeliveries clears the lease of the given deliveries that are
	// still leased to owner, without spending an attempt, so that they are
	// claimed again at their NextAttemptAt (claims a dispatcher took but
	// will not attempt).
	ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error
	// ReleaseLeasesExpiringAt clears the leases that one claim call of owner
	// took: pending deliveries leased to owner until exactly leaseExpiresAt
	// (that call's r.Now + r.Lease, at microsecond precision). A dispatcher
	// calls it after a ClaimDue whose error leaves unknown whether it
	// committed (a connection lost during COMMIT): without it, those
	// deliveries would wait for their lease to expire. It returns how many
	// it released.
	ReleaseLeasesExpiringAt(ctx context.Context, owner string, leaseExpiresAt time.Time) (int, error)
	// CompleteAttempts records attempts in ONE transaction. For each: the
	// attempt row is inserted (skipped when the delivery no longer exists);
	// if the delivery is still leased to c.Owner it gets Attempts =
	// Attempt.Number, LastStatusCode, LastError, lease cleared and:
	//   OutcomeSucceeded: status succeeded.
	//   OutcomeRetry:     stays pending with NextAttemptAt = c.NextAttemptAt.
	//   OutcomeDead:      status dead.
	//   OutcomeGone:      status dead, and the endpoint is disabled with
	//                     DisabledReason = c.DisableReason.
	// The endpoint's Circuit becomes policy.Next(circuit, outcome ==
	// OutcomeSucceeded, Attempt.StartedAt+Latency) — applied in order.
	// A delivery whose lease was lost keeps its state (its attempt is still
	// recorded when the number is not taken yet). Each attempt it inserts
	// is added, in the same transaction, to its endpoint's per-minute
	// rollup (the minute of its StartedAt); the hour rollups are not
	// written here but derived from the minutes by RollupHours.
	CompleteAttempts(ctx context.Context, cs []Completion, policy CircuitPolicy) error
	// CompleteAndClaim records cs exactly as CompleteAttempts does and then,
	// in the SAME transaction, claims exactly as ClaimDue(r) does, and
	// returns the claims: the leases that cs cleared are free room for r's
	// per-endpoint cap. Either both happen or neither. With no completions
	// it is ClaimDue; with r.Limit <= 0 it is CompleteAttempts and returns
	// no claims. It lets a dispatcher refill the slots its finished attempts
	// free with one write instead of two.
	CompleteAndClaim(ctx context.Context, cs []Completion, policy CircuitPolicy, r ClaimRequest) ([]Claim, error)

	// RetryDelivery requeues one delivery of any status: status pending,
	// NextAttemptAt = now, lease cleared, AttemptBase = Attempts. ENOTFOUND
	// when missing.
	RetryDelivery(ctx context.Context, id string, now time.Time) (*Delivery, error)
	// ReplayDead requeues the dead deliveries that match f as RetryDelivery
	// does and returns how many.
	ReplayDead(ctx context.Context, f ReplayFilter, now time.Time) (int, error)
	// ReplayRecovered requeues, as ReplayDead does, the dead deliveries of
	// r.EndpointID that died before r.SucceededAt (a RecoveredEndpoints
	// result) and returns how many. When there were any it stores, in the
	// SAME transaction, the event notice(n) returns with its deliveries as
	// IngestEvents would (the endpoint.recovered operational event), so the
	// replay and its notice commit together or not at all. notice may be
	// nil or return nil (no event); it runs inside the transaction and must
	// not call the store.
	ReplayRecovered(ctx context.Context, r Recovery, now time.Time, notice func(replayed int) *NewEvent) (int, error)

	// RecoveredEndpoints returns the endpoints whose dead letters should be
	// replayed automatically: not disabled, circuit closed, and an attempt to
	// them succeeded (CompleteAttempts/CompleteAndClaim record the latest
	// success per endpoint) after at least one of their dead deliveries
	// died. SucceededAt is that success: replaying the deliveries that died
	// before it (ReplayFilter.Until) cannot loop, since a replayed delivery
	// that dies again dies after it.
	RecoveredEndpoints(ctx context.Context) ([]Recovery, error)

	// DeliveryCounts returns, for every endpoint (of one tenant when
	// tenantID is non-nil) with pending or dead deliveries or a failed
	// attempt, how many it has of each and its latest error, in one query
	// (the dashboard's overview).
	DeliveryCounts(ctx context.Context, tenantID *string) ([]EndpointDeliveryCounts, error)

	// Purge deletes, oldest first, at most limit succeeded deliveries created
	// before `before` (with their attempts) and then at most limit events
	// created before `before` that have no delivery left (an event with a
	// pending or dead delivery is kept). It returns how many of each it
	// deleted; retention calls it until both are below limit.
	Purge(ctx context.Context, before time.Time, limit int) (deliveries, events int, err error)

	// FireAlert stores a as firing unless an alert with a.Key fires
	// already. When it stores it, it ingests notice (when non-nil, as
	// IngestEvents does) in the SAME transaction and returns true: the
	// alert.firing event exists exactly when the episode does. When a.Key
	// fires already it only updates SuccessRate, Attempts, Failed and
	// UpdatedAt (Since is kept), ingests nothing and returns false: a second
	// node or a restarted one never fires the same episode twice.
	FireAlert(ctx context.Context, a Alert, notice *NewEvent) (bool, error)
	// ResolveAlert deletes the firing alert key whose Since equals since
	// (microsecond precision) and, in the same transaction, ingests notice
	// (when non-nil); it returns true. It returns false, ingesting nothing,
	// when no such episode fires (resolved already, by this or another node).
	ResolveAlert(ctx context.Context, key string, since time.Time, notice *NewEvent) (bool, error)
	// ListAlerts returns the firing alerts, oldest Since first (then by Key).
	ListAlerts(ctx context.Context) ([]Alert, error)
	// ReadStats sums the stats rollups over q's window [Since, Until)
	// (rounded out to whole minutes) for one endpoint, one tenant or all
	// but the system tenant (see StatsQuery.EndpointID):
	// totals, status codes, a latency histogram, a series of q.Bucket
	// buckets, and, read now, pending and dead counts (partial indexes of
	// deliveries), circuit states and the latest error. It never scans
	// attempts: the per-minute rows are written with them (CompleteAttempts,
	// CompleteAndClaim), one per endpoint and minute, and an attempt counts
	// in the minute of its StartedAt. The whole hours of the window below
	// the watermark of RollupHours are read from its hour rows (an
	// endpoint's, or a tenant's or the overall summed rows); everything at
	// or after the watermark (and every read of minute buckets) from the
	// minute rows, so an attempt counts at once, and a read before any
	// RollupHours run answers what it answers after. Until a run
	// recomputes a whole hour below the watermark, reads of that whole hour
	// miss the attempts completed into it since the previous run (late
	// completions: the redo of RollupHours). ENOTFOUND when q.EndpointID
	// does not exist; EINVALID when Since or Until is zero, Until < Since,
	// or Bucket is not a whole number of minutes. Rollups go with their
	// endpoint (DeleteEndpoint).
	ReadStats(ctx context.Context, q StatsQuery) (*Stats, error)
	// StatsByEndpoint returns the totals over [since, until) (whole
	// minutes) of every endpoint with attempts in it, by endpoint id (the
	// rows as ReadStats reads them).
	StatsByEndpoint(ctx context.Context, since, until time.Time) ([]EndpointTotals, error)
	// StatsByEndpointSeries returns, in one read transaction, the series
	// of every endpoint (of tenantID when non-nil) with attempts in
	// [since, until) (rounded out to whole minutes, as ReadStats), in
	// buckets of size bucket: a whole number of minutes, aligned as
	// StatsQuery.Bucket (multiples since the Unix epoch, so the first and
	// last may be cut by the window). Buckets without attempts are left
	// out. Endpoints come by id. It sums the same rollups as ReadStats
	// (whole hours from the hour rows when bucket is a whole number of
	// hours), so an endpoint's buckets equal ReadStats' series of it and
	// add up to its StatsByEndpoint totals over the window. EINVALID when
	// since or until is zero, until < since, or bucket is not a positive
	// whole number of minutes. The dashboard's overview reads its
	// sparklines with it.
	StatsByEndpointSeries(ctx context.Context, tenantID *string, since, until time.Time, bucket time.Duration) ([]EndpointSeries, error)
	// RollupHours brings the hour rollups — each endpoint's, and the
	// per-tenant and overall sums — up to upTo (a whole hour; the hours
	// before it are closed), in one transaction, never on the delivery
	// path (a scheduler job calls it): it recomputes in full the hours
	// [from, to), first every endpoint's hour rows from its minute rows,
	// then the tenant and overall rows from those (delete and insert the
	// sums: a row whose sources are gone goes too), where from is the
	// watermark minus redo (the hours that late completions may still have
	// changed) — or, with no watermark yet, the hour of the oldest minute
	// row — and to is upTo, but at most maxSpan after from (a first run
	// over months of rows goes in steps). Then the watermark becomes to (it
	// never moves back), and the first hour the next run recomputes
	// (watermark minus redo) is stored for PurgeStats. It returns the
	// watermark; callers repeat until it reaches upTo. Running it again
	// recomputes the same rows. The overall rows leave out the system
	// tenant. Reads take the whole hours below the watermark from these
	// rows (see ReadStats), so they equal the minute rows' sums once the
	// hours they read were recomputed after their last attempt. Hour rows
	// at or after the watermark (written with the attempts by earlier
	// versions) are not read and are replaced when their hour is
	// recomputed. DeleteEndpoint subtracts the endpoint's rows below the
	// watermark from the summed ones; PurgeStats purges them with the hour
	// rows. EINVALID when upTo is not a whole hour or maxSpan is under an
	// hour.
	RollupHours(ctx context.Context, upTo time.Time, redo, maxSpan time.Duration) (time.Time, error)
	// PurgeStats deletes, from each rollup table, at most limit minute rows
	// that start before minutesBefore and at most limit hour rows (of
	// endpoints, tenants and overall) that start before hoursBefore; it
	// returns how many rows it deleted in all (retention calls it until
	// that is 0). It never deletes minute rows that RollupHours still sums
	// into hour rows: the minute cut is at most the first hour its next run
	// recomputes (its watermark minus its redo), and with no RollupHours
	// run yet no minute row goes. (A later run with a longer redo than the
	// last one's would recompute hours whose minutes may be purged: keep
	// the redo, or raise it only with retention well behind.)
	PurgeStats(ctx context.Context, minutesBefore, hoursBefore time.Time, limit int) (int, error)

	// AcquireJobLease lets one node at a time run the periodic job named job:
	// it takes (or renews) the job's lease for owner until now+ttl and returns
	// true when the lease is free, expired or already owner's; false when
	// another owner holds an unexpired lease.
	AcquireJobLease(ctx context.Context, job, owner string, now time.Time, ttl time.Duration) (bool, error)

	// Setting returns a stored setting or ENOTFOUND.
	Setting(ctx context.Context, key string) (string, error)
	// PutSettingIfAbsent stores a setting unless it exists; reports whether it stored.
	PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error)

	// CountAllEndpoints counts every endpoint (the conformance suite checks
	// the server-wide bound of CreateEndpointWithin with it).
	CountAllEndpoints(ctx context.Context) (int, error)

	// CreateAPIKey stores k (ID, Hash and CreatedAt set); ECONFLICT when its
	// id, hash or non-empty Nonce is taken (a portal link redeemed twice).
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns the key (revoked ones too) or ENOTFOUND.
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	// APIKeyByHash returns the key (revoked ones too) whose Hash is hash, by
	// index (never a scan), or ENOTFOUND.
	APIKeyByHash(ctx context.Context, hash [32]byte) (*APIKey, error)
	// ListAPIKeys lists keys newest first (see APIKeyFilter).
	ListAPIKeys(ctx context.Context, f APIKeyFilter) ([]*APIKey, string, error)
	// RevokeAPIKey sets RevokedAt = now on the live key id and on the live
	// keys whose ParentID is id; ENOTFOUND when id is missing or revoked.
	RevokeAPIKey(ctx context.Context, id string, now time.Time) error
	// TouchAPIKey sets the key's LastUsedAt to at when at is at least a
	// minute later than the stored one (or none is stored), so nodes that
	// race write it at most once a minute.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
	// TakeTokens takes API rate-limit tokens from a shared bucket in one
	// transaction (see TokenRequest): nodes take them in chunks, so the
	// limit holds across nodes without a write per request.
	TakeTokens(ctx context.Context, r TokenRequest) (TokenGrant, error)

	// Ping checks that the database answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Recovery is an endpoint that works again while it has dead deliveries.
type Recovery struct {
	EndpointID  string
	SucceededAt time.Time
}

// ClaimRequest asks ClaimDue for work. Per-endpoint rate limits
// (Endpoint.RateLimitPerSecond) always apply, from the store's token
// buckets, whatever the request says; see ClaimDue.
type ClaimRequest struct {
	Owner            string
	Now              time.Time
	Lease            time.Duration
	Limit            int
	ExcludeEndpoints []string
	// DefaultMaxInFlight, when > 0, makes ClaimDue cap in-flight work per
	// endpoint across ALL owners (all nodes): after the claim no endpoint has
	// more unexpired leases on pending deliveries than its MaxInFlight, or
	// DefaultMaxInFlight when its MaxInFlight is 0. A saturated endpoint's
	// deliveries are skipped, never allowed to starve other endpoints' work.
	DefaultMaxInFlight int
}

// Claim is a leased delivery with what is needed to send it. Claims of one
// call may share Event and Endpoint pointers.
type Claim struct {
	Delivery *Delivery
	Event    *Event
	Endpoint *Endpoint
}

// Outcome is what an attempt means for its delivery.
type Outcome int

const (
	OutcomeSucceeded Outcome = iota + 1
	OutcomeRetry
	OutcomeDead
	OutcomeGone
)

// String names the outcome as logs and metrics show it: succeeded, retry,
// dead, gone (unknown for any other value).
func (o Outcome) String() string {
	switch o {
	case OutcomeSucceeded:
		return "succeeded"
	case OutcomeRetry:
		return "retry"
	case OutcomeDead:
		return "dead"
	case OutcomeGone:
		return "gone"
	}
	return "unknown"
}

// Completion is a finished attempt to record.
type Completion struct {
	Owner         string
	Attempt       Attempt
	Outcome       Outcome
	NextAttemptAt time.Time // for OutcomeRetry
	DisableReason string    // for OutcomeGone
	// Notice, when set, is an operational event (delivery.dead,
	// endpoint.disabled; see SystemTenant) that the store ingests, as
	// IngestEvents does, in the SAME transaction that records this
	// completion, and only when the completion changes the delivery (it is
	// still leased to Owner). The notice is therefore committed exactly
	// when the delivery dies: never lost after, never sent for a
	// completion that lost its lease.
	Notice *NewEvent
}

// Exclusive is implemented by stores that one process holds alone (SQLite
// takes a process lock on its file). Exclusive reports whether no other
// process claims from the store, so a dispatcher may refill the room its
// completions free in the same write (CompleteAndClaim) without keeping an
// endpoint's work from other nodes.
type Exclusive interface {
	Exclusive() bool
}

// Waker is implemented by stores that learn of new work from other
// processes (Postgres LISTEN/NOTIFY). The channel receives a value when
// deliveries may have become due; it is closed when the store closes.
type Waker interface {
	Wakeups() <-chan struct{}
}
