package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

// endpointColumns are scanned by scanEndpoint, in this order.
const endpointColumns = `id, tenant_id, url, description, event_types, secret, previous_secrets,
	headers, max_attempts, rate_limit_per_second, max_in_flight, disabled, disabled_reason,
	circuit_state, circuit_failures, circuit_open_until, circuit_opens, created_at, updated_at`

// previousSecret is the JSON form of hookd.PreviousSecret.
type previousSecret struct {
	Secret    string    `json:"secret"`
	ExpiresAt time.Time `json:"expires_at"`
}

func scanEndpoint(row pgx.Row) (*hookd.Endpoint, error) {
	var e hookd.Endpoint
	var types, prev, headers []byte
	var openUntil *time.Time
	err := row.Scan(&e.ID, &e.TenantID, &e.URL, &e.Description, &types, &e.Secret, &prev,
		&headers, &e.MaxAttempts, &e.RateLimitPerSecond, &e.MaxInFlight, &e.Disabled, &e.DisabledReason,
		&e.Circuit.State, &e.Circuit.ConsecutiveFailures, &openUntil, &e.Circuit.Opens, &e.CreatedAt, &e.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(types, &e.EventTypes); err != nil {
		return nil, fmt.Errorf("event_types: %w", err)
	}
	if err := json.Unmarshal(headers, &e.Headers); err != nil {
		return nil, fmt.Errorf("headers: %w", err)
	}
	var ps []previousSecret
	if err := json.Unmarshal(prev, &ps); err != nil {
		return nil, fmt.Errorf("previous_secrets: %w", err)
	}
	if ps != nil {
		e.PreviousSecrets = make([]hookd.PreviousSecret, len(ps))
		for i, p := range ps {
			e.PreviousSecrets[i] = hookd.PreviousSecret{Secret: p.Secret, ExpiresAt: p.ExpiresAt.UTC()}
		}
	}
	e.Circuit.OpenUntil = fromNull(openUntil)
	e.CreatedAt = e.CreatedAt.UTC()
	e.UpdatedAt = e.UpdatedAt.UTC()
	return &e, nil
}

// endpointJSON encodes the JSON columns of e (nil stays JSON null, so an
// endpoint reads back exactly as it was written).
func endpointJSON(e *hookd.Endpoint) (types, prev, headers []byte, err error) {
	if types, err = json.Marshal(e.EventTypes); err != nil {
		return nil, nil, nil, err
	}
	if headers, err = json.Marshal(e.Headers); err != nil {
		return nil, nil, nil, err
	}
	var ps []previousSecret
	if e.PreviousSecrets != nil {
		ps = make([]previousSecret, len(e.PreviousSecrets))
		for i, p := range e.PreviousSecrets {
			ps[i] = previousSecret{Secret: p.Secret, ExpiresAt: ts(p.ExpiresAt)}
		}
	}
	if prev, err = json.Marshal(ps); err != nil {
		return nil, nil, nil, err
	}
	return types, prev, headers, nil
}

// CreateEndpoint inserts e; ECONFLICT when its id exists. An empty
// Circuit.State is stored as closed.
func (s *Store) CreateEndpoint(ctx context.Context, e *hookd.Endpoint) error {
	return s.CreateEndpointWithin(ctx, e, hookd.EndpointQuota{})
}

// CreateEndpointWithin inserts e when one more endpoint stays within q,
// checked under the quota locks in the same transaction (checkQuota), and
// else returns ECONFLICT.
func (s *Store) CreateEndpointWithin(ctx context.Context, e *hookd.Endpoint, q hookd.EndpointQuota) error {
	if err := e.CheckText(); err != nil {
		return err
	}
	types, prev, headers, err := endpointJSON(e)
	if err != nil {
		return fmt.Errorf("create endpoint: %w", err)
	}
	state := e.Circuit.State
	if state == "" {
		state = hookd.CircuitClosed // as package sqlite does
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkQuota(ctx, tx, e.TenantID, q); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO endpoints (`+endpointColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			e.ID, e.TenantID, e.URL, e.Description, types, e.Secret, prev,
			headers, e.MaxAttempts, e.RateLimitPerSecond, e.MaxInFlight, e.Disabled, e.DisabledReason,
			string(state), e.Circuit.ConsecutiveFailures, nullTime(e.Circuit.OpenUntil), e.Circuit.Opens,
			ts(e.CreatedAt), ts(e.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create endpoint: %w", translate(err))
	}
	return nil
}

// GetEndpoint returns the endpoint or ENOTFOUND.
func (s *Store) GetEndpoint(ctx context.Context, id string) (*hookd.Endpoint, error) {
	if err := hookd.CheckText("id", id); err != nil {
		return nil, err
	}
	e, err := scanEndpoint(s.pool.QueryRow(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "endpoint not found")
	} else if err != nil {
		return nil, fmt.Errorf("get endpoint: %w", translate(err))
	}
	return e, nil
}

// ListEndpoints lists endpoints newest first, of one tenant when tenantID
// is non-nil.
func (s *Store) ListEndpoints(ctx context.Context, tenantID *string, page hookd.Page) ([]*hookd.Endpoint, string, error) {
	if err := hookd.CheckTexts("tenant_id", deref(tenantID), "cursor", page.Cursor); err != nil {
		return nil, "", err
	}
	limit := pageLimit(page)
	rows, err := s.pool.Query(ctx, `SELECT `+endpointColumns+` FROM endpoints
		WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2 = '' OR id < $2)
		ORDER BY id DESC LIMIT $3`, tenantID, page.Cursor, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list endpoints: %w", translate(err))
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*hookd.Endpoint, error) { return scanEndpoint(r) })
	if err != nil {
		return nil, "", fmt.Errorf("list endpoints: %w", translate(err))
	}
	list, next := cut(list, limit, func(e *hookd.Endpoint) string { return e.ID })
	return list, next, nil
}

// CountEndpoints counts the endpoints of one tenant.
func (s *Store) CountEndpoints(ctx context.Context, tenantID string) (int, error) {
	if err := hookd.CheckText("tenant_id", tenantID); err != nil {
		return 0, err
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM endpoints WHERE tenant_id = $1`, tenantID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count endpoints: %w", translate(err))
	}
	return n, nil
}

// DeleteEndpoint removes the endpoint with its deliveries and attempts
// (ON DELETE CASCADE), or returns ENOTFOUND.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	if err := hookd.CheckText("id", id); err != nil {
		return err
	}
	// The rollups go in later statements of the same transaction, so that
	// they see the rows of a completion that held the endpoint's lock until
	// the endpoint's delete could take it.
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return hookd.Errorf(hookd.ENOTFOUND, "endpoint not found")
		}
		return deleteRollups(ctx, tx, id)
	})
	if err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}
	return nil
}

// cut trims a list fetched with limit+1 rows to limit and returns the next
// cursor: the last id returned when more rows exist, else "".
func cut[T any](list []T, limit int, id func(T) string) ([]T, string) {
	if len(list) <= limit {
		return list, ""
	}
	list = list[:limit]
	return list, id(list[limit-1])
}
