package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hookd/hookd"
)

// UpdateEndpointFields applies u to endpoint id in one write transaction
// (see hookd.Store): the row is read on the one writer connection, so no
// other write runs in between, u.Rotate is resolved against it, and only
// the columns u names are written.
func (s *Store) UpdateEndpointFields(ctx context.Context, id string, u hookd.EndpointUpdate) (*hookd.Endpoint, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	if err := u.CheckText(); err != nil {
		return nil, err
	}
	var out *hookd.Endpoint
	err := s.write(ctx, func(tx *sql.Tx) error {
		cur, err := scanEndpoint(tx.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = ?`, id))
		if err == sql.ErrNoRows {
			return notFound("endpoint", id)
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
		sets, args, err := endpointSet(&resolved)
		if err != nil {
			return err
		}
		if sets == "" {
			out = cur
			return nil
		}
		out, err = scanEndpoint(tx.QueryRowContext(ctx, `UPDATE endpoints SET `+sets+` WHERE id = ? RETURNING `+endpointColumns,
			append(args, id)...))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update endpoint: %w", err)
	}
	return out, nil
}

// endpointSet returns the SET list of the columns that u names and their
// arguments in order. It is the one translation of a hookd.EndpointUpdate
// to SQL, shared by UpdateEndpointFields and the completions (410-disable,
// circuit). u.Rotate must have been resolved.
func endpointSet(u *hookd.EndpointUpdate) (string, []any, error) {
	if u.Rotate != nil {
		return "", nil, fmt.Errorf("endpoint update: rotation not resolved")
	}
	var sets []string
	var args []any
	add := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	addJSON := func(col string, v any) error {
		text, err := jsonText(v)
		if err != nil {
			return err
		}
		add(col, text)
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
		v := *u.EventTypes
		if v == nil {
			v = []string{}
		}
		if err := addJSON("event_types", v); err != nil {
			return "", nil, err
		}
	}
	if u.Secret != nil {
		add("secret", *u.Secret)
	}
	if u.PreviousSecrets != nil {
		ps := make([]previousSecret, len(*u.PreviousSecrets))
		for i, p := range *u.PreviousSecrets {
			ps[i] = previousSecret{Secret: p.Secret, ExpiresAt: micros(p.ExpiresAt)}
		}
		if err := addJSON("previous_secrets", ps); err != nil {
			return "", nil, err
		}
	}
	if u.Headers != nil {
		h := *u.Headers
		if h == nil {
			h = map[string]string{}
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
			sets = append(sets, "disabled_reason = CASE WHEN disabled THEN disabled_reason ELSE ? END", "disabled = 1")
			args = append(args, u.DisabledReason)
		} else {
			sets = append(sets, "disabled = 0", "disabled_reason = ''")
		}
	}
	if c := u.Circuit; c != nil {
		state := c.State
		if state == "" {
			state = hookd.CircuitClosed
		}
		add("circuit_state", string(state))
		add("circuit_failures", c.ConsecutiveFailures)
		add("circuit_open_until", micros(c.OpenUntil))
		add("circuit_opens", c.Opens)
	}
	if !u.UpdatedAt.IsZero() {
		add("updated_at", micros(u.UpdatedAt))
	}
	return strings.Join(sets, ", "), args, nil
}
