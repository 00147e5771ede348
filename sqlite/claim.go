package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/hookd/hookd"
)

// dueEndpoint is the endpoint condition of a claim: enabled, circuit closed
// or its cool-down over, not excluded (?3 is a JSON array of ids).
const dueEndpoint = `e.disabled = 0 AND (e.circuit_state = 'closed' OR e.circuit_open_until <= ?1)
	AND e.id NOT IN (SELECT value FROM json_each(?3))`

// dueDelivery is the delivery condition of a claim (?1 is now).
const dueDelivery = `d.status = 'pending' AND d.next_attempt_at <= ?1
	AND (d.lease_owner = '' OR d.lease_expires_at <= ?1)`

// Statements of ClaimDue and ReleaseDeliveries, prepared once on the writer.
const (
	qClaimUncapped = `UPDATE deliveries SET lease_owner = ?4, lease_expires_at = ?5
				WHERE id IN (SELECT d.id FROM deliveries d INDEXED BY deliveries_due
					JOIN endpoints e ON e.id = d.endpoint_id
					WHERE ` + dueDelivery + ` AND ` + dueEndpoint + ` AND e.rate_limit_per_second <= 0
					ORDER BY d.next_attempt_at, d.id LIMIT ?2)
				RETURNING ` + deliveryColumns
	qLeaseIDs = `UPDATE deliveries SET lease_owner = ?, lease_expires_at = ?
				WHERE id IN (SELECT value FROM json_each(?)) RETURNING ` + deliveryColumns
	qRooms = `SELECT e.id,
			(CASE WHEN e.max_in_flight > 0 THEN e.max_in_flight ELSE ?2 END) -
			(SELECT count(*) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'
				AND d.lease_owner <> '' AND d.lease_expires_at > ?1) AS free
		FROM endpoints e WHERE ` + dueEndpoint + ` AND free > 0`
	qDueOf = `SELECT d.id, d.next_attempt_at
		FROM deliveries d INDEXED BY deliveries_endpoint_due WHERE d.endpoint_id = ?2 AND ` + dueDelivery + `
		ORDER BY d.next_attempt_at, d.id LIMIT ?3`
	qLoadEvents = `SELECT ` + eventColumns + ` FROM events
		WHERE id IN (SELECT value FROM json_each(?))`
	qLoadEndpoints = `SELECT ` + endpointColumns + ` FROM endpoints
		WHERE id IN (SELECT value FROM json_each(?))`
	qRelease = `UPDATE deliveries SET lease_owner = '', lease_expires_at = 0
			WHERE id IN (SELECT value FROM json_each(?)) AND lease_owner = ?`
)

// ClaimDue leases up to r.Limit due deliveries to r.Owner and returns them,
// oldest NextAttemptAt first, with their events and endpoints; see
// hookd.Store. Everything runs in one IMMEDIATE transaction on the single
// writer, so concurrent claims never overlap.
//
// With r.DefaultMaxInFlight > 0 each eligible endpoint offers at most its
// free room (cap minus unexpired leases) of its own oldest due deliveries,
// found by one index seek per endpoint; a saturated endpoint's backlog is
// never scanned, so it cannot starve the others.
//
// A rate-limited endpoint offers at most the whole tokens of the bucket on
// its row, and the tokens of what is leased are deducted in the same
// transaction. Without a cap, endpoints without a rate limit are claimed
// by one index walk first, and rate-limited ones fill the rest of the limit.
func (s *Store) ClaimDue(ctx context.Context, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	if r.Limit <= 0 {
		return nil, nil
	}
	var claims []hookd.Claim
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		var err error
		claims, err = s.claim(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim due: %w", err)
	}
	return claims, nil
}

// claim is ClaimDue inside the writer transaction tx; r.Limit > 0.
func (s *Store) claim(ctx context.Context, tx *sql.Tx, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	now := micros(r.Now)
	nowT := fromMicros(now)
	exp := micros(r.Now.Add(r.Lease))
	excl, err := jsonText(append([]string{}, r.ExcludeEndpoints...))
	if err != nil {
		return nil, err
	}
	buckets, err := s.readBuckets(ctx, tx, now, excl)
	if err != nil {
		return nil, err
	}
	tokens := make(map[string]int, len(buckets))
	for id, b := range buckets {
		tokens[id] = b.Whole(nowT)
	}
	var ds []*hookd.Delivery
	var ids []string
	if r.DefaultMaxInFlight > 0 {
		if ids, err = s.cappedDue(ctx, tx, r, now, excl, tokens); err != nil {
			return nil, err
		}
	} else {
		rows, err := s.query(ctx, tx, qClaimUncapped, now, r.Limit, excl, r.Owner, exp)
		if err != nil {
			return nil, err
		}
		if ds, err = scanDeliveries(rows); err != nil {
			return nil, err
		}
		if len(ds) < r.Limit && len(tokens) > 0 {
			var rooms []room
			for id, n := range tokens {
				if n > 0 {
					rooms = append(rooms, room{endpoint: id, free: n})
				}
			}
			if ids, err = s.dueOf(ctx, tx, now, rooms, r.Limit-len(ds)); err != nil {
				return nil, err
			}
		}
	}
	if len(ids) > 0 {
		idsJSON, err := jsonText(ids)
		if err != nil {
			return nil, err
		}
		rows, err := s.query(ctx, tx, qLeaseIDs, r.Owner, exp, idsJSON)
		if err != nil {
			return nil, err
		}
		leased, err := scanDeliveries(rows)
		if err != nil {
			return nil, err
		}
		ds = append(ds, leased...)
	}
	spent := map[string]int{}
	for _, d := range ds {
		if _, ok := buckets[d.EndpointID]; ok {
			spent[d.EndpointID]++
		}
	}
	if err := s.spendBuckets(ctx, tx, nowT, buckets, spent); err != nil {
		return nil, err
	}
	slices.SortFunc(ds, func(a, b *hookd.Delivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	return s.loadClaims(ctx, tx, ds)
}

// room is how many deliveries one endpoint may still take in a claim.
type room struct {
	endpoint string
	free     int
}

// cappedDue picks the ids to claim under the per-endpoint in-flight cap
// and, for rate-limited endpoints, their whole tokens.
func (s *Store) cappedDue(ctx context.Context, tx *sql.Tx, r hookd.ClaimRequest, now int64, excl string, tokens map[string]int) ([]string, error) {
	rows, err := s.query(ctx, tx, qRooms, now, r.DefaultMaxInFlight, excl)
	if err != nil {
		return nil, fmt.Errorf("endpoint room: %w", err)
	}
	var rooms []room
	for rows.Next() {
		var rm room
		if err := rows.Scan(&rm.endpoint, &rm.free); err != nil {
			rows.Close()
			return nil, err
		}
		if n, limited := tokens[rm.endpoint]; limited {
			rm.free = min(rm.free, n)
		}
		if rm.free > 0 {
			rooms = append(rooms, rm)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return s.dueOf(ctx, tx, now, rooms, r.Limit)
}

// dueOf returns the ids of up to limit due deliveries, at most rm.free of
// each room's endpoint (its oldest, by one index seek), oldest first.
func (s *Store) dueOf(ctx context.Context, tx *sql.Tx, now int64, rooms []room, limit int) ([]string, error) {
	if len(rooms) == 0 {
		return nil, nil
	}
	stmt, err := s.txStmt(ctx, tx, qDueOf)
	if err != nil {
		return nil, err
	}
	type cand struct {
		id   string
		next int64
	}
	var cands []cand
	for _, rm := range rooms {
		rows, err := stmt.QueryContext(ctx, now, rm.endpoint, min(rm.free, limit))
		if err != nil {
			return nil, fmt.Errorf("due of endpoint: %w", err)
		}
		for rows.Next() {
			var c cand
			if err := rows.Scan(&c.id, &c.next); err != nil {
				rows.Close()
				return nil, err
			}
			cands = append(cands, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(cands, func(a, b cand) int { return cmp.Or(cmp.Compare(a.next, b.next), cmp.Compare(a.id, b.id)) })
	ids := make([]string, 0, min(len(cands), limit))
	for _, c := range cands[:min(len(cands), limit)] {
		ids = append(ids, c.id)
	}
	return ids, nil
}

// loadClaims attaches events and endpoints, loaded in two batched queries.
func (s *Store) loadClaims(ctx context.Context, tx *sql.Tx, ds []*hookd.Delivery) ([]hookd.Claim, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	evIDs := make([]string, 0, len(ds))
	epIDs := make([]string, 0, len(ds))
	for _, d := range ds {
		evIDs = append(evIDs, d.EventID)
		epIDs = append(epIDs, d.EndpointID)
	}
	evJSON, err := jsonText(evIDs)
	if err != nil {
		return nil, err
	}
	epJSON, err := jsonText(epIDs)
	if err != nil {
		return nil, err
	}
	events := map[string]*hookd.Event{}
	rows, err := s.query(ctx, tx, qLoadEvents, evJSON)
	if err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("load events: %w", err)
		}
		events[e.ID] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load events: %w", err)
	}
	endpoints := map[string]*hookd.Endpoint{}
	rows, err = s.query(ctx, tx, qLoadEndpoints, epJSON)
	if err != nil {
		return nil, fmt.Errorf("load endpoints: %w", err)
	}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("load endpoints: %w", err)
		}
		endpoints[e.ID] = e
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load endpoints: %w", err)
	}
	claims := make([]hookd.Claim, len(ds))
	for i, d := range ds {
		claims[i] = hookd.Claim{Delivery: d, Event: events[d.EventID], Endpoint: endpoints[d.EndpointID]}
	}
	return claims, nil
}

// ReleaseDeliveries clears the lease of the given deliveries still leased to
// owner, without spending an attempt.
func (s *Store) ReleaseDeliveries(ctx context.Context, owner string, deliveryIDs []string) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	ids, err := jsonText(deliveryIDs)
	if err != nil {
		return err
	}
	err = s.writeLazy(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, qRelease, ids, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("release claims: %w", err)
	}
	return nil
}
