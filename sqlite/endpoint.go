package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/hookd/hookd"
)

const endpointColumns = `id, tenant_id, url, description, event_types, secret, previous_secrets,
	headers, max_attempts, rate_limit_per_second, max_in_flight, disabled, disabled_reason,
	circuit_state, circuit_failures, circuit_open_until, circuit_opens, created_at, updated_at`

// previousSecret is the JSON form of hookd.PreviousSecret.
type previousSecret struct {
	Secret    string `json:"secret"`
	ExpiresAt int64  `json:"expires_at"` // unix µs
}

// endpointArgs returns the mutable columns of e, in endpointColumns order
// from url to max_in_flight, then disabled and disabled_reason.
func endpointArgs(e *hookd.Endpoint) ([]any, error) {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	prev := make([]previousSecret, len(e.PreviousSecrets))
	for i, p := range e.PreviousSecrets {
		prev[i] = previousSecret{Secret: p.Secret, ExpiresAt: micros(p.ExpiresAt)}
	}
	headers := e.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	typesJSON, err := jsonText(types)
	if err != nil {
		return nil, err
	}
	prevJSON, err := jsonText(prev)
	if err != nil {
		return nil, err
	}
	headersJSON, err := jsonText(headers)
	if err != nil {
		return nil, err
	}
	return []any{e.TenantID, e.URL, e.Description, typesJSON, e.Secret, prevJSON, headersJSON,
		e.MaxAttempts, e.RateLimitPerSecond, e.MaxInFlight, e.Disabled, e.DisabledReason}, nil
}

func scanEndpoint(sc scanner) (*hookd.Endpoint, error) {
	var (
		e                           hookd.Endpoint
		types, prev, headers        string
		openUntil, created, updated int64
		state                       string
	)
	err := sc.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &e.Secret, &prev,
		&headers, &e.MaxAttempts, &e.RateLimitPerSecond, &e.MaxInFlight, &e.Disabled, &e.DisabledReason,
		&state, &e.Circuit.ConsecutiveFailures, &openUntil, &e.Circuit.Opens, &created, &updated)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("decode event_types: %w", err)
	}
	if len(e.EventTypes) == 0 {
		e.EventTypes = nil
	}
	var ps []previousSecret
	if err := json.Unmarshal([]byte(prev), &ps); err != nil {
		return nil, fmt.Errorf("decode previous_secrets: %w", err)
	}
	for _, p := range ps {
		e.PreviousSecrets = append(e.PreviousSecrets, hookd.PreviousSecret{Secret: p.Secret, ExpiresAt: fromMicros(p.ExpiresAt)})
	}
	if err := json.Unmarshal([]byte(headers), &e.Headers); err != nil {
		return nil, fmt.Errorf("decode headers: %w", err)
	}
	if len(e.Headers) == 0 {
		e.Headers = nil
	}
	e.Circuit.State = hookd.CircuitState(state)
	e.Circuit.OpenUntil = fromMicros(openUntil)
	e.CreatedAt = fromMicros(created)
	e.UpdatedAt = fromMicros(updated)
	return &e, nil
}

// CreateEndpoint inserts e (ID, CreatedAt and UpdatedAt already set). An
// empty circuit state is stored as closed. ECONFLICT when the id exists.
func (s *Store) CreateEndpoint(ctx context.Context, e *hookd.Endpoint) error {
	return s.CreateEndpointWithin(ctx, e, hookd.EndpointQuota{})
}

// CreateEndpointWithin inserts e when one more endpoint stays within q,
// counted in the same write transaction (checkQuota), and else returns
// ECONFLICT.
func (s *Store) CreateEndpointWithin(ctx context.Context, e *hookd.Endpoint, q hookd.EndpointQuota) error {
	if err := e.CheckText(); err != nil {
		return err
	}
	args, err := endpointArgs(e)
	if err != nil {
		return err
	}
	state := e.Circuit.State
	if state == "" {
		state = hookd.CircuitClosed
	}
	args = append([]any{e.ID}, args...)
	args = append(args, string(state), e.Circuit.ConsecutiveFailures, micros(e.Circuit.OpenUntil),
		e.Circuit.Opens, micros(e.CreatedAt), micros(e.UpdatedAt))
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := checkQuota(ctx, tx, e.TenantID, q); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`)
			VALUES (`+placeholders(19)+`)`, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("create endpoint: %w", err)
	}
	return nil
}

// GetEndpoint returns the endpoint or ENOTFOUND.
func (s *Store) GetEndpoint(ctx context.Context, id string) (*hookd.Endpoint, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	row := s.reader.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = ?`, id)
	e, err := scanEndpoint(row)
	if err == sql.ErrNoRows {
		return nil, notFound("endpoint", id)
	} else if err != nil {
		return nil, fmt.Errorf("get endpoint: %w", mapErr(err))
	}
	return e, nil
}

// ListEndpoints lists endpoints newest first, of one tenant when tenantID
// is non-nil.
func (s *Store) ListEndpoints(ctx context.Context, tenantID *string, page hookd.Page) ([]*hookd.Endpoint, string, error) {
	if err := hookd.CheckTexts("tenant_id", deref(tenantID), "cursor", page.Cursor); err != nil {
		return nil, "", err
	}
	q := `SELECT ` + endpointColumns + ` FROM endpoints WHERE 1=1`
	var args []any
	if tenantID != nil {
		q += ` AND tenant_id = ?`
		args = append(args, *tenantID)
	}
	if page.Cursor != "" {
		q += ` AND id < ?`
		args = append(args, page.Cursor)
	}
	limit := pageLimit(page.Limit)
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list endpoints: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*hookd.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list endpoints: %w", mapErr(err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list endpoints: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// CountEndpoints counts the endpoints of one tenant.
func (s *Store) CountEndpoints(ctx context.Context, tenantID string) (int, error) {
	if err := hookd.CheckText("tenant_id", tenantID); err != nil {
		return 0, err
	}
	var n int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM endpoints WHERE tenant_id = ?`, tenantID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count endpoints: %w", mapErr(err))
	}
	return n, nil
}

// DeleteEndpoint removes the endpoint, its deliveries and their attempts
// (ON DELETE CASCADE), or returns ENOTFOUND.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	if err := hookd.CheckText("id", id); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoints WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "endpoint", id); err != nil {
			return err
		}
		return deleteRollups(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}
	return nil
}

// mustAffect returns ENOTFOUND when res changed no row.
func mustAffect(res sql.Result, what, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what, id)
	}
	return nil
}
