package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// UpdateEndpointFields applies u to endpoint id in one transaction (see
// hookd.Store): the row is locked (FOR NO KEY UPDATE, the lock the
// completions take) and read, u.Rotate is resolved against it, and only the
// columns u names are written.
func (s *Store) UpdateEndpointFields(ctx context.Context, id string, u hookd.EndpointUpdate) (*hookd.Endpoint, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	if err := u.CheckText(); err != nil {
		return nil, err
	}
	var out *hookd.Endpoint
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanEndpoint(tx.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = $1 FOR NO KEY UPDATE`, id))
		if isNoRows(err) {
			return hookd.Errorf(hookd.ENOTFOUND, "endpoint not found")
		} else if err != nil {
			return err
		}
		if u.TenantID != nil && *u.TenantID != cur.TenantID {
			if err := checkQuota(ctx, tx, *u.TenantID, hookd.EndpointQuota{PerTenant: u.Quota.PerTenant}); err != nil {
				return err
			}
		}
		resolved, err := u.Resolve(cur)
		if err != nil {
			return err
		}
		sets, args, err := endpointSet(&resolved, 2)
		if err != nil {
			return err
		}
		if sets == "" {
			out = cur
			return nil
		}
		out, err = scanEndpoint(tx.QueryRow(ctx, `UPDATE endpoints SET `+sets+` WHERE id = $1 RETURNING `+endpointColumns,
			append([]any{id}, args...)...))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update endpoint: %w", translate(err))
	}
	return out, nil
}

// endpointSet returns the SET list of the columns that u names, with
// placeholders numbered from first, and their arguments in order. It is
// the one translation of a hookd.EndpointUpdate to SQL, shared by
// UpdateEndpointFields and the completions (410-disable, circuit). u.Rotate
// must have been resolved.
func endpointSet(u *hookd.EndpointUpdate, first int) (string, []any, error) {
	if u.Rotate != nil {
		return "", nil, fmt.Errorf("endpoint update: rotation not resolved")
	}
	var sets []string
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", first+len(args)-1)
	}
	add := func(col string, v any) { sets = append(sets, col+" = "+param(v)) }
	addJSON := func(col string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", col, err)
		}
		add(col, b)
		return nil
	}
	if u.URL != nil {
		add("url", *u.URL)
	}
	if u.TenantID != nil {
		add("tenant_id", *u.TenantID)
	}
	if u.Description != nil {
		add("description", *u.Description)
	}
	if u.EventTypes != nil {
		var v []string
		if len(*u.EventTypes) > 0 {
			v = *u.EventTypes
		}
		if err := addJSON("event_types", v); err != nil {
			return "", nil, err
		}
	}
	if u.Secret != nil {
		add("secret", *u.Secret)
	}
	if u.PreviousSecrets != nil {
		var ps []previousSecret
		for _, p := range *u.PreviousSecrets {
			ps = append(ps, previousSecret{Secret: p.Secret, ExpiresAt: ts(p.ExpiresAt)})
		}
		if err := addJSON("previous_secrets", ps); err != nil {
			return "", nil, err
		}
	}
	if u.Headers != nil {
		var h map[string]string
		if len(*u.Headers) > 0 {
			h = *u.Headers
		}
		if err := addJSON("headers", h); err != nil {
			return "", nil, err
		}
	}
	if u.MaxAttempts != nil {
		add("max_attempts", *u.MaxAttempts)
	}
	if u.RateLimitPerSecond != nil {
		add("rate_limit_per_second", *u.RateLimitPerSecond)
	}
	if u.MaxInFlight != nil {
		add("max_in_flight", *u.MaxInFlight)
	}
	if u.Disabled != nil {
		if *u.Disabled {
			// An endpoint already disabled keeps its first reason.
			sets = append(sets, "disabled_reason = CASE WHEN disabled THEN disabled_reason ELSE "+param(u.DisabledReason)+"::text END",
				"disabled = true")
		} else {
			sets = append(sets, "disabled = false", "disabled_reason = ''")
		}
	}
	if c := u.Circuit; c != nil {
		state := c.State
		if state == "" {
			state = hookd.CircuitClosed
		}
		add("circuit_state", string(state))
		add("circuit_failures", c.ConsecutiveFailures)
		add("circuit_open_until", nullTime(c.OpenUntil))
		add("circuit_opens", c.Opens)
	}
	if !u.UpdatedAt.IsZero() {
		add("updated_at", ts(u.UpdatedAt))
	}
	return strings.Join(sets, ", "), args, nil
}
