package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// CompleteAttempts records finished attempts in one transaction (see
// hookd.Store): the attempt rows, the new state of the deliveries still
// leased to their completion's owner, endpoints disabled by 410 Gone, and
// the endpoints' circuits, advanced in the order of cs. It costs three round
// trips whatever len(cs): the deliveries' endpoints, the endpoints' circuits
// (locked, in id order), and one batch of all writes.
func (s *Store) CompleteAttempts(ctx context.Context, cs []hookd.Completion, policy hookd.CircuitPolicy) error {
	if len(cs) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error { return complete(ctx, tx, cs, policy) })
	if err != nil {
		return fmt.Errorf("complete attempts: %w", err)
	}
	return nil
}

// CompleteAndClaim records cs and claims r in one transaction (see
// hookd.Store): complete, then claim, whose lease recount sees the leases
// the completions cleared.
func (s *Store) CompleteAndClaim(ctx context.Context, cs []hookd.Completion, policy hookd.CircuitPolicy, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	if len(cs) == 0 {
		return s.ClaimDue(ctx, r)
	}
	if r.Limit <= 0 {
		return nil, s.CompleteAttempts(ctx, cs, policy)
	}
	var claims []hookd.Claim
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := complete(ctx, tx, cs, policy); err != nil {
			return err
		}
		var err error
		claims, err = claimTx(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("complete and claim: %w", err)
	}
	return claims, nil
}

func complete(ctx context.Context, tx pgx.Tx, cs []hookd.Completion, policy hookd.CircuitPolicy) error {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.Attempt.DeliveryID
	}
	// Which deliveries still exist, and their endpoints.
	rows, err := tx.Query(ctx, `SELECT id, endpoint_id FROM deliveries WHERE id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("read deliveries: %w", err)
	}
	endpointOf := map[string]string{}
	var id, ep string
	if _, err := pgx.ForEachRow(rows, []any{&id, &ep}, func() error { endpointOf[id] = ep; return nil }); err != nil {
		return fmt.Errorf("read deliveries: %w", err)
	}
	if len(endpointOf) == 0 {
		return nil
	}
	eps := make([]string, 0, len(endpointOf))
	for _, ep := range endpointOf {
		eps = append(eps, ep)
	}
	slices.Sort(eps)
	eps = slices.Compact(eps)

	// Lock the endpoints in id order (no deadlock between two completions).
	rows, err = tx.Query(ctx, `SELECT id, circuit_state, circuit_failures, circuit_open_until, circuit_opens
		FROM endpoints WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, eps)
	if err != nil {
		return fmt.Errorf("read circuits: %w", err)
	}
	circuits := map[string]hookd.Circuit{}
	exists := map[string]bool{}
	var c hookd.Circuit
	var openUntil *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &c.State, &c.ConsecutiveFailures, &openUntil, &c.Opens}, func() error {
		c.OpenUntil = fromNull(openUntil)
		circuits[id] = c
		exists[id] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("read circuits: %w", err)
	}

	b := &pgx.Batch{}
	var noticed []noticeUpdate
	succeeded := map[string]time.Time{} // endpoint id -> end of its latest success
	for _, c := range cs {
		a := c.Attempt
		ep, ok := endpointOf[a.DeliveryID]
		if !ok {
			continue // the delivery is gone: the attempt completes into nothing
		}
		end := ts(a.StartedAt.Add(a.Latency))
		b.Queue(`INSERT INTO attempts (delivery_id, number, started_at, status_code, latency_us, response_body, error)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (delivery_id, number) DO NOTHING`,
			a.DeliveryID, a.Number, ts(a.StartedAt), a.StatusCode, a.Latency.Microseconds(),
			[]byte(a.ResponseBody), cleanText(a.Error))

		status, next := hookd.StatusPending, time.Time{}
		switch c.Outcome {
		case hookd.OutcomeSucceeded:
			status = hookd.StatusSucceeded
		case hookd.OutcomeRetry:
			next = c.NextAttemptAt
		case hookd.OutcomeDead, hookd.OutcomeGone:
			status = hookd.StatusDead
		default:
			return fmt.Errorf("delivery %s: unknown outcome %d", a.DeliveryID, c.Outcome)
		}
		update := `UPDATE deliveries SET attempts = $3, last_status_code = $4, last_error = $5,
			lease_owner = '', lease_expires_at = NULL, status = $6,
			next_attempt_at = coalesce($7, next_attempt_at), updated_at = $8
			WHERE id = $1 AND lease_owner = $2 AND status = 'pending'`
		args := []any{a.DeliveryID, c.Owner, a.Number, a.StatusCode, cleanText(a.Error), string(status), nullTime(next), end}
		if c.Outcome == hookd.OutcomeGone {
			sets, setArgs, err := endpointSet(&hookd.EndpointUpdate{Disabled: hookd.Ptr(true),
				DisabledReason: c.DisableReason, UpdatedAt: end}, len(args)+1)
			if err != nil {
				return err
			}
			update = `WITH d AS (` + update + ` RETURNING endpoint_id)
				UPDATE endpoints SET ` + sets + ` WHERE id IN (SELECT endpoint_id FROM d)`
			args = append(args, setArgs...)
		}
		if c.Notice != nil {
			// Run after the batch, alone, to learn whether it changed the
			// delivery: only then is the notice ingested.
			noticed = append(noticed, noticeUpdate{update, args, c.Notice})
		} else {
			b.Queue(update, args...)
		}
		circuits[ep] = policy.Next(circuits[ep], c.Outcome == hookd.OutcomeSucceeded, a.StartedAt.Add(a.Latency))
		if c.Outcome == hookd.OutcomeSucceeded && a.StartedAt.Add(a.Latency).After(succeeded[ep]) {
			succeeded[ep] = a.StartedAt.Add(a.Latency)
		}
	}
	for _, ep := range eps {
		if !exists[ep] {
			continue // deleted meanwhile
		}
		c := circuits[ep]
		sets, args, err := endpointSet(&hookd.EndpointUpdate{Circuit: &c}, 3)
		if err != nil {
			return err
		}
		b.Queue(`UPDATE endpoints SET `+sets+`, last_success_at = greatest(last_success_at, $2) WHERE id = $1`,
			append([]any{ep, nullTime(succeeded[ep])}, args...)...)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return completeNoticed(ctx, tx, noticed)
}

// noticeUpdate is the delivery update of a completion with a Notice.
type noticeUpdate struct {
	sql    string
	args   []any
	notice *hookd.NewEvent
}

// completeNoticed runs the updates of completions that carry a notice
// (rare: deaths and 410s) one by one and ingests the notices of those that
// changed their delivery (still leased to their owner), in the same
// transaction.
func completeNoticed(ctx context.Context, tx pgx.Tx, us []noticeUpdate) error {
	var notices []*hookd.NewEvent
	for _, u := range us {
		// Both forms return a row exactly when the delivery changed (the
		// 410 form returns the endpoint it disabled).
		rows, err := tx.Query(ctx, u.sql+` RETURNING id`, u.args...)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if n > 0 {
			notices = append(notices, u.notice)
		}
	}
	if err := ingestNotice(ctx, tx, notices...); err != nil {
		return fmt.Errorf("operational event: %w", err)
	}
	return nil
}

// cleanText makes s storable in a text column, which refuses NUL bytes and
// invalid UTF-8: error texts can quote what a remote server sent.
func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
