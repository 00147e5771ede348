package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// claimLockClass is the first key of the per-endpoint advisory locks that
// capped claims take (the two-int4 key space, apart from single-key locks).
const claimLockClass = 0x686b64 // "hkd"

// eligible is the endpoint part of "due" (alias e; $1 is now, $2 the
// excluded endpoint ids).
const eligible = `NOT e.disabled
	AND (e.circuit_state IN ('', 'closed') OR e.circuit_open_until IS NULL OR e.circuit_open_until <= $1)
	AND NOT (e.id = ANY($2))`

// due is the delivery part of "due" (alias d; $1 is now).
const due = `d.status = 'pending' AND d.next_attempt_at <= $1
	AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= $1)`

// ClaimDue leases up to r.Limit due deliveries to r.Owner until
// r.Now+r.Lease, oldest NextAttemptAt first, with their events and
// endpoints (see hookd.Store).
//
// Without a cap, the deliveries of endpoints without a rate limit are
// leased in one statement: the oldest due rows from the partial index
// deliveries_due, locked FOR UPDATE SKIP LOCKED so that concurrent claims
// take different rows. With r.DefaultMaxInFlight > 0 it:
//  1. picks candidates per eligible endpoint — each endpoint's oldest due
//     rows, at most its free room (cap minus unexpired leases) and, when it
//     is rate-limited, its whole tokens — merged oldest first, so a
//     saturated endpoint contributes nothing and never starves the others;
//  2. takes a transaction advisory lock per candidate endpoint with
//     pg_try_advisory_xact_lock, skipping endpoints that another node is
//     claiming right now;
//  3. recounts the leases of the locked endpoints (a fresh snapshot, after
//     every earlier claim of them committed) and trims to the room left;
//  4. leases the rows FOR UPDATE SKIP LOCKED.
//
// That keeps the cap exact across nodes while claims of different
// endpoints still run in parallel.
//
// Rate-limited endpoints (both paths) spend the token bucket on their row:
// the row is locked FOR NO KEY UPDATE SKIP LOCKED (an endpoint whose row
// another transaction holds is skipped this time), the bucket is read fresh
// under that lock, the candidates are trimmed to its whole tokens, and the
// tokens of the deliveries actually leased are deducted in the same
// transaction. Two nodes therefore never spend the same tokens.
func (s *Store) ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	var claims []hookd.Claim
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		claims, err = claimTx(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	return claims, nil
}

// claimTx is ClaimDue inside tx; r.Limit > 0.
func claimTx(ctx context.Context, tx pgx.Tx, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	now := ts(r.Now)
	until := ts(r.Now.Add(r.Lease))
	exclude := nonNil(r.ExcludeEndpoints)
	var ds []*hookd.Delivery
	var cands []candidate
	var err error
	if r.DefaultMaxInFlight > 0 {
		cands, err = pickCapped(ctx, tx, now, exclude, r.Limit, r.DefaultMaxInFlight)
	} else {
		ds, err = leaseUnlimited(ctx, tx, now, until, exclude, r.Owner, r.Limit)
		if err == nil && len(ds) < r.Limit {
			cands, err = pickRateLimited(ctx, tx, now, exclude, r.Limit-len(ds))
		}
	}
	if err != nil {
		return nil, err
	}
	leased, err := leaseCandidates(ctx, tx, now, until, r.Owner, cands)
	if err != nil {
		return nil, err
	}
	ds = append(ds, leased...)
	slices.SortFunc(ds, func(a, b *hookd.Delivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return withParents(ctx, tx, ds)
}

// leaseUnlimited leases, in one statement, up to limit due deliveries of
// endpoints without a rate limit (the uncapped claim).
func leaseUnlimited(ctx context.Context, tx pgx.Tx, now, until time.Time, exclude []string, owner string, limit int) ([]*hookd.Delivery, error) {
	// The rows are picked in a MATERIALIZED CTE, run once: a LIMIT … SKIP
	// LOCKED subquery in "id IN (…)" may be rescanned per outer row and
	// then yields further rows (TestLimitWhateverThePlan).
	rows, err := tx.Query(ctx, `WITH picked AS MATERIALIZED (
			SELECT d.id FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
			WHERE `+due+` AND `+eligible+` AND e.rate_limit_per_second <= 0
			ORDER BY d.next_attempt_at, d.id LIMIT $5
			FOR UPDATE OF d SKIP LOCKED)
		UPDATE deliveries SET lease_owner = $3, lease_expires_at = $4
		WHERE id IN (SELECT id FROM picked)
		RETURNING `+deliveryColumns, now, exclude, owner, until, limit)
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	ds, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	return ds, nil
}

// leaseCandidates trims the candidates of rate-limited endpoints to their
// buckets (locked), leases what is left FOR UPDATE SKIP LOCKED and deducts
// the tokens of the rows it leased.
func leaseCandidates(ctx context.Context, tx pgx.Tx, now, until time.Time, owner string, cands []candidate) ([]*hookd.Delivery, error) {
	var limited []string
	for _, c := range cands {
		if c.rate > 0 {
			limited = append(limited, c.endpoint)
		}
	}
	var buckets map[string]bucket
	if len(limited) > 0 {
		slices.Sort(limited)
		var err error
		if buckets, err = lockBuckets(ctx, tx, slices.Compact(limited)); err != nil {
			return nil, err
		}
	}
	tokens := make(map[string]int, len(buckets))
	for id, b := range buckets {
		tokens[id] = b.Whole(now)
	}
	ids := make([]string, 0, len(cands))
	for _, c := range cands {
		if c.rate > 0 {
			if tokens[c.endpoint] <= 0 {
				continue
			}
			tokens[c.endpoint]--
		}
		ids = append(ids, c.id)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// The rows are found by primary key only, locked, and tested for "due"
	// after the lock, on the locked row (the MATERIALIZED CTE keeps the
	// test out of the scan): with the test in the scan, a plan made before
	// the table had statistics (a fresh schema, the first minute of a new
	// server) read the ids through deliveries_due and filtered the whole
	// backlog — 21,112 rows for 16 (auto_explain). The statement is planned
	// on each call (unnamed, so never a cached generic plan made while the
	// table was tiny: that froze a sequential scan in the completion read).
	rows, err := tx.Query(ctx, `WITH locked AS MATERIALIZED (
			SELECT id, status, next_attempt_at, lease_expires_at FROM deliveries
			WHERE id = ANY($4) FOR UPDATE SKIP LOCKED)
		UPDATE deliveries SET lease_owner = $2, lease_expires_at = $3
		WHERE id = ANY(ARRAY(SELECT d.id FROM locked d WHERE `+due+`))
		RETURNING `+deliveryColumns, pgx.QueryExecModeCacheDescribe, now, owner, until, ids)
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	ds, err := collectDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	if len(buckets) > 0 {
		spent := map[string]int{}
		for _, d := range ds {
			if _, ok := buckets[d.EndpointID]; ok {
				spent[d.EndpointID]++
			}
		}
		if err := spendBuckets(ctx, tx, now, buckets, spent); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// candidate is a due delivery picked for a claim; rate is its endpoint's
// rate limit (0: none).
type candidate struct {
	id, endpoint string
	rate         float64
}

// pickRateLimited picks, for an uncapped claim, up to limit due deliveries
// of rate-limited endpoints: each endpoint's oldest, at most its whole
// tokens (read without a lock: leaseCandidates checks them again), merged
// oldest first.
func pickRateLimited(ctx context.Context, tx pgx.Tx, now time.Time, exclude []string, limit int) ([]candidate, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, e.id, e.rate_limit_per_second
		FROM endpoints e
		CROSS JOIN LATERAL (
			SELECT d.id, d.next_attempt_at FROM deliveries d
			WHERE d.endpoint_id = e.id AND `+due+`
			ORDER BY d.next_attempt_at, d.id
			LIMIT least($3, `+wholeTokens+`)
		) c
		WHERE e.rate_limit_per_second > 0 AND `+eligible+`
		ORDER BY c.next_attempt_at, c.id
		LIMIT $3`, now, exclude, limit)
	if err != nil {
		return nil, fmt.Errorf("pick rate-limited: %w", err)
	}
	var cands []candidate
	var c candidate
	_, err = pgx.ForEachRow(rows, []any{&c.id, &c.endpoint, &c.rate}, func() error {
		cands = append(cands, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pick rate-limited: %w", err)
	}
	return cands, nil
}

// pickCapped runs steps 1–3 of a capped claim and returns the candidates
// to lease.
func pickCapped(ctx context.Context, tx pgx.Tx, now time.Time, exclude []string, limit, defaultCap int) ([]candidate, error) {
	// The planner cannot know the per-endpoint LIMITs are small, costs the
	// query above jit_above_cost, and JIT compilation then costs ~10x the
	// query itself (measured: 37 ms instead of 4 ms with 1M pending rows).
	if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil {
		return nil, fmt.Errorf("pick: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT c.id, e.id, e.rate_limit_per_second, r.cap
		FROM endpoints e
		CROSS JOIN LATERAL (SELECT CASE WHEN e.max_in_flight > 0 THEN e.max_in_flight ELSE $4 END AS cap) r
		CROSS JOIN LATERAL (
			SELECT d.id, d.next_attempt_at FROM deliveries d
			WHERE d.endpoint_id = e.id AND `+due+`
			ORDER BY d.next_attempt_at, d.id
			LIMIT greatest(0, least($3,
				CASE WHEN e.rate_limit_per_second > 0 THEN `+wholeTokens+` ELSE $3::bigint END,
				r.cap - (
				SELECT count(*) FROM deliveries f
				WHERE f.endpoint_id = e.id AND f.status = 'pending' AND f.lease_expires_at > $1)))
		) c
		WHERE `+eligible+`
		ORDER BY c.next_attempt_at, c.id
		LIMIT $3`, now, exclude, limit, defaultCap)
	if err != nil {
		return nil, fmt.Errorf("pick: %w", err)
	}
	var cands []candidate
	caps := map[string]int{}
	var c candidate
	var epCap int
	_, err = pgx.ForEachRow(rows, []any{&c.id, &c.endpoint, &c.rate, &epCap}, func() error {
		cands = append(cands, c)
		caps[c.endpoint] = epCap
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pick: %w", err)
	}
	if len(cands) == 0 {
		return nil, nil
	}
	eps := make([]string, 0, len(caps))
	for ep := range caps {
		eps = append(eps, ep)
	}
	slices.Sort(eps)

	// Step 2: one claimer per endpoint at a time.
	rows, err = tx.Query(ctx, `SELECT ep FROM unnest($1::text[]) AS ep
		WHERE pg_try_advisory_xact_lock($2, hashtext(ep))`, eps, int32(claimLockClass))
	if err != nil {
		return nil, fmt.Errorf("lock endpoints: %w", err)
	}
	locked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("lock endpoints: %w", err)
	}
	if len(locked) == 0 {
		return nil, nil
	}

	// Step 3: the room left now that every earlier claim has committed.
	// One correlated count per endpoint, the form of step 1, which seeks
	// deliveries_in_flight: "endpoint_id = ANY($1) … GROUP BY" was planned,
	// before the table had statistics, as a bitmap scan of every pending row
	// (deliveries_due, auto_explain).
	rows, err = tx.Query(ctx, `SELECT ep, (SELECT count(*) FROM deliveries f
			WHERE f.endpoint_id = ep AND f.status = 'pending' AND f.lease_expires_at > $2)
		FROM unnest($1::text[]) AS ep`, locked, now)
	if err != nil {
		return nil, fmt.Errorf("count in flight: %w", err)
	}
	room := make(map[string]int, len(locked))
	for _, ep := range locked {
		room[ep] = caps[ep]
	}
	var ep string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&ep, &n}, func() error {
		room[ep] -= n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count in flight: %w", err)
	}
	out := make([]candidate, 0, len(cands))
	for _, c := range cands {
		if room[c.endpoint] > 0 {
			room[c.endpoint]--
			out = append(out, c)
		}
	}
	return out, nil
}

// withParents loads the events and endpoints of ds (one query each) and
// pairs them up; claims of one call share Event and Endpoint pointers.
func withParents(ctx context.Context, tx pgx.Tx, ds []*hookd.Delivery) ([]hookd.Claim, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	evIDs := make([]string, 0, len(ds))
	epIDs := make([]string, 0, len(ds))
	for _, d := range ds {
		evIDs = append(evIDs, d.EventID)
		epIDs = append(epIDs, d.EndpointID)
	}
	slices.Sort(evIDs)
	slices.Sort(epIDs)
	evIDs, epIDs = slices.Compact(evIDs), slices.Compact(epIDs)

	b := &pgx.Batch{}
	events := make(map[string]*hookd.Event, len(evIDs))
	endpoints := make(map[string]*hookd.Endpoint, len(epIDs))
	b.Queue(`SELECT `+eventColumns+` FROM events WHERE id = ANY($1)`, evIDs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			events[e.ID] = e
		}
		return rows.Err()
	})
	b.Queue(`SELECT `+endpointColumns+` FROM endpoints WHERE id = ANY($1)`, epIDs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			e, err := scanEndpoint(rows)
			if err != nil {
				return err
			}
			endpoints[e.ID] = e
		}
		return rows.Err()
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("load claimed: %w", err)
	}
	claims := make([]hookd.Claim, len(ds))
	for i, d := range ds {
		claims[i] = hookd.Claim{Delivery: d, Event: events[d.EventID], Endpoint: endpoints[d.EndpointID]}
		if claims[i].Event == nil || claims[i].Endpoint == nil {
			return nil, fmt.Errorf("load claimed: delivery %s lost its event or endpoint", d.ID)
		}
	}
	return claims, nil
}

// ReleaseDeliveries clears the lease of those of deliveryIDs still leased to
// owner, without spending an attempt.
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE deliveries SET lease_owner = '', lease_expires_at = NULL
			WHERE id = ANY($1) AND lease_owner = $2 AND status = 'pending'`, deliveryIDs, owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			return notify(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release claims: %w", err)
	}
	return nil
}
