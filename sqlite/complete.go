package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/rollup"
)

// Statements of CompleteAttempts, prepared once on the writer (see stmtCache).
const (
	qLookupDelivery = `SELECT endpoint_id, lease_owner FROM deliveries WHERE id = ?`
	qAddAttempt     = `INSERT INTO attempts
		(delivery_id, number, started_at, status_code, latency_us, response_body, error)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, number) DO NOTHING`
	qFinishDelivery = `UPDATE deliveries SET status = ?1, attempts = ?2,
		last_status_code = ?3, last_error = ?4, lease_owner = '', lease_expires_at = 0,
		next_attempt_at = CASE WHEN ?1 = 'pending' THEN ?5 ELSE next_attempt_at END, updated_at = ?6
		WHERE id = ?7`
)

// CompleteAttempts records finished attempts in one transaction; see
// hookd.Store. The attempt row is inserted unless the delivery is gone or
// its number is already taken; the delivery changes only while it is still
// leased to c.Owner. The endpoint's circuit follows policy.Next for every
// recorded attempt whose delivery still exists, in order, lease or not (the
// attempt did reach the endpoint); UpdatedAt of a changed delivery (and of
// an endpoint disabled by 410) is the attempt's end, StartedAt+Latency.
func (s *Store) CompleteAttempts(ctx context.Context, cs []hookd.Completion, policy hookd.CircuitPolicy) error {
	if len(cs) == 0 {
		return nil
	}
	var changes []hookd.CircuitChange
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		var err error
		changes, err = s.complete(ctx, tx, cs, policy)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete attempts: %w", err)
	}
	s.circuits.Report(changes)
	return nil
}

// CompleteAndClaim records cs and claims r in one transaction on the
// writer, committed like CompleteAttempts and ClaimDue (synchronous=NORMAL);
// see hookd.Store.
func (s *Store) CompleteAndClaim(ctx context.Context, cs []hookd.Completion, policy hookd.CircuitPolicy, r hookd.ClaimRequest) ([]hookd.Claim, error) {
	if len(cs) == 0 {
		return s.ClaimDue(ctx, r)
	}
	if r.Limit <= 0 {
		return nil, s.CompleteAttempts(ctx, cs, policy)
	}
	var claims []hookd.Claim
	var changes []hookd.CircuitChange
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		var err error
		if changes, err = s.complete(ctx, tx, cs, policy); err != nil {
			return err
		}
		claims, err = s.claim(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("complete and claim: %w", err)
	}
	s.circuits.Report(changes)
	return claims, nil
}

// complete is CompleteAttempts inside the writer transaction tx. Every
// attempt it inserts is added to the stats rollups (an attempt already
// recorded by an earlier, ambiguous try is not counted twice), and it
// returns the circuit transitions it made.
func (s *Store) complete(ctx context.Context, tx *sql.Tx, cs []hookd.Completion, policy hookd.CircuitPolicy) ([]hookd.CircuitChange, error) {
	lookup, err := s.txStmt(ctx, tx, qLookupDelivery)
	if err != nil {
		return nil, err
	}
	defer lookup.Close()
	addAttempt, err := s.txStmt(ctx, tx, qAddAttempt)
	if err != nil {
		return nil, err
	}
	defer addAttempt.Close()
	finish, err := s.txStmt(ctx, tx, qFinishDelivery)
	if err != nil {
		return nil, err
	}
	defer finish.Close()

	circuits := map[string]*endpointState{} // endpoint id -> circuit as of now
	succeeded := map[string]int64{}         // endpoint id -> end of its latest success
	var order []string
	var notices []*hookd.NewEvent // of the completions that changed their delivery
	var stats rollup.Batch
	var changes []hookd.CircuitChange
	for i := range cs {
		c := &cs[i]
		a := &c.Attempt
		var endpointID, owner string
		err := lookup.QueryRowContext(ctx, a.DeliveryID).Scan(&endpointID, &owner)
		if err == sql.ErrNoRows {
			continue // deleted while in flight: the attempt completes into nothing
		} else if err != nil {
			return nil, fmt.Errorf("load delivery: %w", err)
		}
		end := a.StartedAt.Add(a.Latency)
		res, err := addAttempt.ExecContext(ctx, a.DeliveryID, a.Number, micros(a.StartedAt), a.StatusCode,
			a.Latency.Microseconds(), a.ResponseBody, a.Error)
		if err != nil {
			return nil, fmt.Errorf("insert attempt: %w", err)
		}
		inserted, _ := res.RowsAffected()
		if owner == c.Owner && owner != "" {
			status := hookd.StatusPending
			switch c.Outcome {
			case hookd.OutcomeSucceeded:
				status = hookd.StatusSucceeded
			case hookd.OutcomeDead, hookd.OutcomeGone:
				status = hookd.StatusDead
			case hookd.OutcomeRetry:
			default:
				return nil, hookd.Errorf(hookd.EINVALID, "unknown outcome %d", c.Outcome)
			}
			_, err := finish.ExecContext(ctx, string(status), a.Number, a.StatusCode, a.Error,
				micros(c.NextAttemptAt), micros(end), a.DeliveryID)
			if err != nil {
				return nil, fmt.Errorf("update delivery: %w", err)
			}
			if c.Outcome == hookd.OutcomeGone {
				sets, args, err := endpointSet(&hookd.EndpointUpdate{Disabled: hookd.Ptr(true),
					DisabledReason: c.DisableReason, UpdatedAt: end})
				if err != nil {
					return nil, err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET `+sets+` WHERE id = ?`, append(args, endpointID)...); err != nil {
					return nil, fmt.Errorf("disable endpoint: %w", err)
				}
			}
			if c.Notice != nil {
				notices = append(notices, c.Notice)
			}
		}
		cur, ok := circuits[endpointID]
		if !ok {
			if cur, err = loadCircuit(ctx, tx, endpointID); err != nil {
				return nil, err
			}
			circuits[endpointID] = cur
			order = append(order, endpointID)
		}
		success := c.Outcome == hookd.OutcomeSucceeded
		prev := cur.circuit
		cur.circuit = policy.Next(prev, success, end)
		if !success && micros(end) >= cur.lastErrorAt {
			cur.lastError, cur.lastErrorAt = hookd.AttemptError(a), micros(end)
		}
		if hookd.CircuitTransition(prev, cur.circuit) {
			changes = append(changes, hookd.CircuitChange{EndpointID: endpointID, From: prev, To: cur.circuit,
				LastError: cur.lastError, At: fromMicros(micros(end))})
		}
		if success {
			succeeded[endpointID] = max(succeeded[endpointID], micros(end))
		}
		if inserted > 0 {
			stats.Add(endpointID, cur.tenantID, a, success)
		}
	}
	for _, id := range order {
		st := circuits[id]
		sets, args, err := endpointSet(&hookd.EndpointUpdate{Circuit: &st.circuit})
		if err != nil {
			return nil, err
		}
		// The latest failure (for the stats) rides along with the circuit.
		_, err = tx.ExecContext(ctx, `UPDATE endpoints SET `+sets+`, last_success_at = max(last_success_at, ?),
			last_error = CASE WHEN ? > last_error_at THEN ? ELSE last_error END,
			last_error_at = max(last_error_at, ?) WHERE id = ?`,
			append(args, succeeded[id], st.lastErrorAt, st.lastError, st.lastErrorAt, id)...)
		if err != nil {
			return nil, fmt.Errorf("update circuit: %w", err)
		}
	}
	for _, ne := range notices {
		if err := s.ingestNotice(ctx, tx, ne); err != nil {
			return nil, fmt.Errorf("operational event: %w", err)
		}
	}
	if s.noRollups {
		return changes, nil
	}
	if err := s.addRollups(ctx, tx, stats.Rows()); err != nil {
		return nil, err
	}
	return changes, nil
}

// endpointState is what complete keeps of an endpoint while it records a
// batch. lastError starts as the stored one; lastErrorAt is 0 until an
// attempt of the batch failed.
type endpointState struct {
	tenantID    string
	circuit     hookd.Circuit
	lastError   string
	lastErrorAt int64
}

func loadCircuit(ctx context.Context, tx *sql.Tx, endpointID string) (*endpointState, error) {
	var (
		st        endpointState
		state     string
		openUntil int64
	)
	c := &st.circuit
	err := tx.QueryRowContext(ctx, `SELECT tenant_id, circuit_state, circuit_failures, circuit_open_until, circuit_opens,
		last_error FROM endpoints WHERE id = ?`, endpointID).Scan(&st.tenantID, &state, &c.ConsecutiveFailures, &openUntil,
		&c.Opens, &st.lastError)
	if err != nil {
		return nil, fmt.Errorf("load circuit: %w", err)
	}
	c.State = hookd.CircuitState(state)
	c.OpenUntil = fromMicros(openUntil)
	return &st, nil
}
