package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookd/hookd"
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
	err := s.writeLazy(ctx, func(tx *sql.Tx) error { return s.complete(ctx, tx, cs, policy) })
	if err != nil {
		return fmt.Errorf("complete attempts: %w", err)
	}
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
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		if err := s.complete(ctx, tx, cs, policy); err != nil {
			return err
		}
		var err error
		claims, err = s.claim(ctx, tx, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("complete and claim: %w", err)
	}
	return claims, nil
}

// complete is CompleteAttempts inside the writer transaction tx.
func (s *Store) complete(ctx context.Context, tx *sql.Tx, cs []hookd.Completion, policy hookd.CircuitPolicy) error {
	lookup, err := s.txStmt(ctx, tx, qLookupDelivery)
	if err != nil {
		return err
	}
	defer lookup.Close()
	addAttempt, err := s.txStmt(ctx, tx, qAddAttempt)
	if err != nil {
		return err
	}
	defer addAttempt.Close()
	finish, err := s.txStmt(ctx, tx, qFinishDelivery)
	if err != nil {
		return err
	}
	defer finish.Close()

	circuits := map[string]*hookd.Circuit{} // endpoint id -> circuit as of now
	succeeded := map[string]int64{}         // endpoint id -> end of its latest success
	var order []string
	var notices []*hookd.NewEvent // of the completions that changed their delivery
	for i := range cs {
		c := &cs[i]
		a := &c.Attempt
		var endpointID, owner string
		err := lookup.QueryRowContext(ctx, a.DeliveryID).Scan(&endpointID, &owner)
		if err == sql.ErrNoRows {
			continue // deleted while in flight: the attempt completes into nothing
		} else if err != nil {
			return fmt.Errorf("load delivery: %w", err)
		}
		end := a.StartedAt.Add(a.Latency)
		_, err = addAttempt.ExecContext(ctx, a.DeliveryID, a.Number, micros(a.StartedAt), a.StatusCode,
			a.Latency.Microseconds(), a.ResponseBody, a.Error)
		if err != nil {
			return fmt.Errorf("insert attempt: %w", err)
		}
		if owner == c.Owner && owner != "" {
			status := hookd.StatusPending
			switch c.Outcome {
			case hookd.OutcomeSucceeded:
				status = hookd.StatusSucceeded
			case hookd.OutcomeDead, hookd.OutcomeGone:
				status = hookd.StatusDead
			case hookd.OutcomeRetry:
			default:
				return hookd.Errorf(hookd.EINVALID, "unknown outcome %d", c.Outcome)
			}
			_, err := finish.ExecContext(ctx, string(status), a.Number, a.StatusCode, a.Error,
				micros(c.NextAttemptAt), micros(end), a.DeliveryID)
			if err != nil {
				return fmt.Errorf("update delivery: %w", err)
			}
			if c.Outcome == hookd.OutcomeGone {
				sets, args, err := endpointSet(&hookd.EndpointUpdate{Disabled: hookd.Ptr(true),
					DisabledReason: c.DisableReason, UpdatedAt: end})
				if err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `UPDATE endpoints SET `+sets+` WHERE id = ?`, append(args, endpointID)...); err != nil {
					return fmt.Errorf("disable endpoint: %w", err)
				}
			}
			if c.Notice != nil {
				notices = append(notices, c.Notice)
			}
		}
		cur, ok := circuits[endpointID]
		if !ok {
			if cur, err = loadCircuit(ctx, tx, endpointID); err != nil {
				return err
			}
			circuits[endpointID] = cur
			order = append(order, endpointID)
		}
		*cur = policy.Next(*cur, c.Outcome == hookd.OutcomeSucceeded, end)
		if c.Outcome == hookd.OutcomeSucceeded {
			succeeded[endpointID] = max(succeeded[endpointID], micros(end))
		}
	}
	for _, id := range order {
		sets, args, err := endpointSet(&hookd.EndpointUpdate{Circuit: circuits[id]})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE endpoints SET `+sets+`, last_success_at = max(last_success_at, ?) WHERE id = ?`,
			append(args, succeeded[id], id)...)
		if err != nil {
			return fmt.Errorf("update circuit: %w", err)
		}
	}
	for _, ne := range notices {
		if err := s.ingestNotice(ctx, tx, ne); err != nil {
			return fmt.Errorf("operational event: %w", err)
		}
	}
	return nil
}

func loadCircuit(ctx context.Context, tx *sql.Tx, endpointID string) (*hookd.Circuit, error) {
	var (
		c         hookd.Circuit
		state     string
		openUntil int64
	)
	err := tx.QueryRowContext(ctx, `SELECT circuit_state, circuit_failures, circuit_open_until, circuit_opens
		FROM endpoints WHERE id = ?`, endpointID).Scan(&state, &c.ConsecutiveFailures, &openUntil, &c.Opens)
	if err != nil {
		return nil, fmt.Errorf("load circuit: %w", err)
	}
	c.State = hookd.CircuitState(state)
	c.OpenUntil = fromMicros(openUntil)
	return &c, nil
}
