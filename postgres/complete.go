package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
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
	var changes []hookd.CircuitChange
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		changes, err = complete(ctx, tx, cs, policy, s.queueStats)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete attempts: %w", err)
	}
	s.circuits.Report(changes)
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
	var changes []hookd.CircuitChange
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if changes, err = complete(ctx, tx, cs, policy, s.queueStats); err != nil {
			return err
		}
		claims, err = claimTx(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("complete and claim: %w", err)
	}
	s.circuits.Report(changes)
	return claims, nil
}

// complete is the completion's work in tx; queueStats queues the rollup
// upserts (Store.queueStats).
func complete(ctx context.Context, tx pgx.Tx, cs []hookd.Completion, policy hookd.CircuitPolicy,
	queueStats func(*pgx.Batch, []*rollup.Row)) ([]hookd.CircuitChange, error) {
	ids := make([]string, len(cs))
	numbers := make([]int32, len(cs))
	for i, c := range cs {
		ids[i], numbers[i] = c.Attempt.DeliveryID, int32(c.Attempt.Number)
	}
	// Which deliveries still exist, their endpoints, and which attempts are
	// recorded already (by an earlier try whose commit was ambiguous): those
	// are not counted in the stats again.
	// Scalar subqueries, run per id: each is a primary-key lookup in any
	// plan, so the cached generic plan stays good. A join here was planned,
	// before the tables had statistics, as hash joins over sequential
	// scans of deliveries and attempts (auto_explain).
	rows, err := tx.Query(ctx, `SELECT c.id, c.n, (SELECT d.endpoint_id FROM deliveries d WHERE d.id = c.id),
			coalesce((SELECT true FROM attempts a WHERE a.delivery_id = c.id AND a.number = c.n), false)
		FROM unnest($1::text[], $2::int[]) AS c(id, n)`, ids, numbers)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	type attemptKey struct {
		id string
		n  int32
	}
	endpointOf := map[string]string{}
	recorded := map[attemptKey]bool{}
	var id string
	var ep *string // nil: the delivery is gone
	var n int32
	var exists bool
	if _, err := pgx.ForEachRow(rows, []any{&id, &n, &ep, &exists}, func() error {
		if ep == nil {
			return nil
		}
		endpointOf[id] = *ep
		recorded[attemptKey{id, n}] = exists
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	if len(endpointOf) == 0 {
		return nil, nil
	}
	eps := make([]string, 0, len(endpointOf))
	for _, ep := range endpointOf {
		eps = append(eps, ep)
	}
	slices.Sort(eps)
	eps = slices.Compact(eps)

	// Lock the endpoints in id order (no deadlock between two completions;
	// the rollup rows of an endpoint are only written under its lock).
	rows, err = tx.Query(ctx, `SELECT id, tenant_id, circuit_state, circuit_failures, circuit_open_until, circuit_opens,
		last_error FROM endpoints WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, eps)
	if err != nil {
		return nil, fmt.Errorf("read circuits: %w", err)
	}
	type endpointState struct {
		tenantID    string
		circuit     hookd.Circuit
		lastError   string
		lastErrorAt time.Time
	}
	states := map[string]*endpointState{}
	var tenant, lastError string
	var c hookd.Circuit
	var openUntil *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &tenant, &c.State, &c.ConsecutiveFailures, &openUntil, &c.Opens, &lastError}, func() error {
		c.OpenUntil = fromNull(openUntil)
		states[id] = &endpointState{tenantID: tenant, circuit: c, lastError: lastError}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read circuits: %w", err)
	}

	b := &pgx.Batch{}
	var attempts attemptRows
	var noticed []noticeUpdate
	succeeded := map[string]time.Time{} // endpoint id -> end of its latest success
	var stats rollup.Batch
	var changes []hookd.CircuitChange
	for _, c := range cs {
		a := c.Attempt
		ep, ok := endpointOf[a.DeliveryID]
		if !ok {
			continue // the delivery is gone: the attempt completes into nothing
		}
		endAt := a.StartedAt.Add(a.Latency)
		end := ts(endAt)
		attempts.add(&a)

		status, next := hookd.StatusPending, time.Time{}
		switch c.Outcome {
		case hookd.OutcomeSucceeded:
			status = hookd.StatusSucceeded
		case hookd.OutcomeRetry:
			next = c.NextAttemptAt
		case hookd.OutcomeDead, hookd.OutcomeGone:
			status = hookd.StatusDead
		default:
			return nil, fmt.Errorf("delivery %s: unknown outcome %d", a.DeliveryID, c.Outcome)
		}
		// The CASE keeps the row found by primary key: with "status =
		// 'pending'" as a plain condition, a plan cached before the table
		// had statistics scanned deliveries_due for the id (71 buffers
		// per row instead of ~20, pg_stat_statements).
		update := `UPDATE deliveries SET attempts = $3, last_status_code = $4, last_error = $5,
			lease_owner = '', lease_expires_at = NULL, status = $6,
			next_attempt_at = coalesce($7, next_attempt_at), updated_at = $8
			WHERE id = $1 AND CASE WHEN status = 'pending' THEN lease_owner = $2 ELSE false END`
		args := []any{a.DeliveryID, c.Owner, a.Number, a.StatusCode, cleanText(a.Error), string(status), nullTime(next), end}
		if c.Outcome == hookd.OutcomeGone {
			sets, setArgs, err := endpointSet(&hookd.EndpointUpdate{Disabled: hookd.Ptr(true),
				DisabledReason: c.DisableReason, UpdatedAt: end}, len(args)+1)
			if err != nil {
				return nil, err
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
		st := states[ep]
		if st == nil {
			continue // the endpoint was deleted meanwhile
		}
		success := c.Outcome == hookd.OutcomeSucceeded
		prev := st.circuit
		st.circuit = policy.Next(prev, success, endAt)
		if !success && !end.Before(st.lastErrorAt) {
			st.lastError, st.lastErrorAt = cleanText(hookd.AttemptError(&a)), end
		}
		if hookd.CircuitTransition(prev, st.circuit) {
			changes = append(changes, hookd.CircuitChange{EndpointID: ep, From: prev, To: st.circuit, LastError: st.lastError, At: end})
		}
		if success && endAt.After(succeeded[ep]) {
			succeeded[ep] = endAt
		}
		k := attemptKey{a.DeliveryID, int32(a.Number)}
		if !recorded[k] {
			recorded[k] = true // a second completion of the same attempt in cs is a duplicate
			stats.Add(ep, st.tenantID, &a, success)
		}
	}
	for _, ep := range eps {
		st := states[ep]
		if st == nil {
			continue // deleted meanwhile
		}
		sets, args, err := endpointSet(&hookd.EndpointUpdate{Circuit: &st.circuit}, 5)
		if err != nil {
			return nil, err
		}
		// The latest failure (for the stats) rides along with the circuit.
		b.Queue(`UPDATE endpoints SET `+sets+`, last_success_at = greatest(last_success_at, $2),
			last_error = CASE WHEN $3::timestamptz IS NOT NULL AND (last_error_at IS NULL OR $3 >= last_error_at) THEN $4 ELSE last_error END,
			last_error_at = greatest(last_error_at, $3) WHERE id = $1`,
			append([]any{ep, nullTime(succeeded[ep]), nullTime(st.lastErrorAt), st.lastError}, args...)...)
	}
	attempts.queue(b)
	queueStats(b, stats.Rows())
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	if err := completeNoticed(ctx, tx, noticed); err != nil {
		return nil, err
	}
	return changes, nil
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
