package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
)

const apiKeyColumns = `id, kind, name, tenant_id, key_hash, hint, rate_limit_per_second,
	parent_id, nonce, created_at, last_used_at, expires_at, revoked_at`

func scanAPIKey(row pgx.Row) (*hookd.APIKey, error) {
	var (
		k                      hookd.APIKey
		kind                   string
		tenant, nonce          *string
		hash                   []byte
		used, expires, revoked *time.Time
	)
	err := row.Scan(&k.ID, &kind, &k.Name, &tenant, &hash, &k.Hint, &k.RateLimitPerSecond,
		&k.ParentID, &nonce, &k.CreatedAt, &used, &expires, &revoked)
	if err != nil {
		return nil, err
	}
	if len(hash) != len(k.Hash) {
		return nil, fmt.Errorf("api key %s: corrupt hash", k.ID)
	}
	copy(k.Hash[:], hash)
	k.Kind = hookd.KeyKind(kind)
	k.Admin = tenant == nil
	if tenant != nil {
		k.TenantID = *tenant
	}
	if nonce != nil {
		k.Nonce = *nonce
	}
	k.CreatedAt = k.CreatedAt.UTC()
	k.LastUsedAt, k.ExpiresAt, k.RevokedAt = fromNull(used), fromNull(expires), fromNull(revoked)
	return &k, nil
}

// CreateAPIKey stores k; ECONFLICT when its id, hash or nonce is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k *hookd.APIKey) error {
	var tenant, nonce *string
	if !k.Admin {
		tenant = &k.TenantID
	}
	if k.Nonce != "" {
		nonce = &k.Nonce
	}
	kind := k.Kind
	if kind == "" {
		kind = hookd.KindKey
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		k.ID, string(kind), k.Name, tenant, k.Hash[:], k.Hint, k.RateLimitPerSecond,
		k.ParentID, nonce, ts(k.CreatedAt), nullTime(k.LastUsedAt), nullTime(k.ExpiresAt), nullTime(k.RevokedAt))
	if err != nil {
		return fmt.Errorf("create api key: %w", translate(err))
	}
	return nil
}

// GetAPIKey returns the key or ENOTFOUND.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*hookd.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	if isNoRows(err) {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "api key %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("get api key: %w", translate(err))
	}
	return k, nil
}

// APIKeyByHash returns the key whose hash is hash (unique index) or
// ENOTFOUND.
func (s *Store) APIKeyByHash(ctx context.Context, hash [32]byte) (*hookd.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1`, hash[:]))
	if isNoRows(err) {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "api key not found")
	} else if err != nil {
		return nil, fmt.Errorf("api key by hash: %w", translate(err))
	}
	return k, nil
}

// ListAPIKeys lists the live keys newest first.
func (s *Store) ListAPIKeys(ctx context.Context, f hookd.APIKeyFilter) ([]*hookd.APIKey, string, error) {
	limit := pageLimit(f.Page)
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)
			AND ($2::text IS NULL OR tenant_id = $2) AND ($3 = '' OR kind = $3) AND ($4 = '' OR id < $4)
		ORDER BY id DESC LIMIT $5`, ts(f.Now), f.TenantID, string(f.Kind), f.Cursor, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", translate(err))
	}
	defer rows.Close()
	var out []*hookd.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list api keys: %w", translate(err))
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", translate(err))
	}
	out, next := cut(out, limit, func(k *hookd.APIKey) string { return k.ID })
	return out, next, nil
}

// RevokeAPIKey revokes the live key id and its live sessions.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, now time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, ts(now))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return hookd.Errorf(hookd.ENOTFOUND, "api key %s not found", id)
		}
		_, err = tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE parent_id = $1 AND revoked_at IS NULL`, id, ts(now))
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

// TouchAPIKey records a use of the key at most once a minute.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`, id, ts(at))
	if err != nil {
		return fmt.Errorf("touch api key: %w", translate(err))
	}
	return nil
}

// TakeTokens takes rate-limit tokens from the bucket r.Bucket in one
// transaction, its row locked so that nodes never take the same tokens. A
// missing bucket is created full first (a racing node's insert wins and is
// then locked and read like any other).
func (s *Store) TakeTokens(ctx context.Context, r hookd.TokenRequest) (hookd.TokenGrant, error) {
	var g hookd.TokenGrant
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var tokens float64
		var updated time.Time
		q := `SELECT tokens, updated_at FROM api_buckets WHERE bucket = $1 FOR UPDATE`
		err := tx.QueryRow(ctx, q, r.Bucket).Scan(&tokens, &updated)
		if isNoRows(err) {
			_, err = tx.Exec(ctx, `INSERT INTO api_buckets (bucket, tokens, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (bucket) DO NOTHING`, r.Bucket, r.Burst, ts(r.Now))
			if err != nil {
				return err
			}
			err = tx.QueryRow(ctx, q, r.Bucket).Scan(&tokens, &updated)
		}
		if err != nil {
			return err
		}
		g = r.Take(tokens, updated)
		if g.Granted == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE api_buckets SET tokens = $2, updated_at = greatest(updated_at, $3)
			WHERE bucket = $1`, r.Bucket, g.Remaining, ts(r.Now))
		return err
	})
	if err != nil {
		return g, fmt.Errorf("take tokens: %w", err)
	}
	return g, nil
}

// CountAllEndpoints counts every endpoint.
func (s *Store) CountAllEndpoints(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM endpoints`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count endpoints: %w", translate(err))
	}
	return n, nil
}
