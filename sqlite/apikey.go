package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hookd/hookd"
)

const apiKeyColumns = `id, kind, name, tenant_id, key_hash, hint, rate_limit_per_second,
	parent_id, nonce, created_at, last_used_at, expires_at, revoked_at`

func scanAPIKey(sc scanner) (*hookd.APIKey, error) {
	var (
		k                               hookd.APIKey
		kind, hash                      string
		tenant, nonce                   sql.NullString
		rate                            sql.NullFloat64
		created, used, expires, revoked int64
	)
	err := sc.Scan(&k.ID, &kind, &k.Name, &tenant, &hash, &k.Hint, &rate,
		&k.ParentID, &nonce, &created, &used, &expires, &revoked)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(hash)
	if err != nil || len(b) != len(k.Hash) {
		return nil, fmt.Errorf("api key %s: corrupt hash", k.ID)
	}
	copy(k.Hash[:], b)
	k.Kind = hookd.KeyKind(kind)
	k.Admin, k.TenantID = !tenant.Valid, tenant.String
	if rate.Valid {
		k.RateLimitPerSecond = &rate.Float64
	}
	k.Nonce = nonce.String
	k.CreatedAt, k.LastUsedAt = fromMicros(created), fromMicros(used)
	k.ExpiresAt, k.RevokedAt = fromMicros(expires), fromMicros(revoked)
	return &k, nil
}

// apiKeyArgs returns the columns of k in apiKeyColumns order.
func apiKeyArgs(k *hookd.APIKey) []any {
	var tenant, nonce any
	if !k.Admin {
		tenant = k.TenantID
	}
	if k.Nonce != "" {
		nonce = k.Nonce
	}
	var rate any
	if k.RateLimitPerSecond != nil {
		rate = *k.RateLimitPerSecond
	}
	kind := k.Kind
	if kind == "" {
		kind = hookd.KindKey
	}
	return []any{k.ID, string(kind), k.Name, tenant, hex.EncodeToString(k.Hash[:]), k.Hint, rate,
		k.ParentID, nonce, micros(k.CreatedAt), micros(k.LastUsedAt), micros(k.ExpiresAt), micros(k.RevokedAt)}
}

// insertAPIKey is the INSERT of CreateAPIKey (also used by MintKey).
const insertAPIKey = `INSERT INTO api_keys (` + apiKeyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// CreateAPIKey stores k; ECONFLICT when its id, hash or nonce is taken.
func (s *Store) CreateAPIKey(ctx context.Context, k *hookd.APIKey) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, insertAPIKey, apiKeyArgs(k)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// GetAPIKey returns the key or ENOTFOUND.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*hookd.APIKey, error) {
	k, err := scanAPIKey(s.reader.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return nil, notFound("api key", id)
	} else if err != nil {
		return nil, fmt.Errorf("get api key: %w", mapErr(err))
	}
	return k, nil
}

// APIKeyByHash returns the key whose hash is hash (unique index) or
// ENOTFOUND.
func (s *Store) APIKeyByHash(ctx context.Context, hash [32]byte) (*hookd.APIKey, error) {
	k, err := scanAPIKey(s.reader.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = ?`,
		hex.EncodeToString(hash[:])))
	if err == sql.ErrNoRows {
		return nil, hookd.Errorf(hookd.ENOTFOUND, "api key not found")
	} else if err != nil {
		return nil, fmt.Errorf("api key by hash: %w", mapErr(err))
	}
	return k, nil
}

// ListAPIKeys lists the live keys newest first.
func (s *Store) ListAPIKeys(ctx context.Context, f hookd.APIKeyFilter) ([]*hookd.APIKey, string, error) {
	q := `SELECT ` + apiKeyColumns + ` FROM api_keys WHERE revoked_at = 0 AND (expires_at = 0 OR expires_at > ?)`
	args := []any{micros(f.Now)}
	if f.TenantID != nil {
		q += ` AND tenant_id = ?`
		args = append(args, *f.TenantID)
	}
	if f.Kind != "" {
		q += ` AND kind = ?`
		args = append(args, string(f.Kind))
	}
	if f.Cursor != "" {
		q += ` AND id < ?`
		args = append(args, f.Cursor)
	}
	limit := pageLimit(f.Limit)
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", mapErr(err))
	}
	defer rows.Close()
	var out []*hookd.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list api keys: %w", mapErr(err))
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list api keys: %w", mapErr(err))
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// RevokeAPIKey revokes the live key id and its live sessions.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, now time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, micros(now), id)
		if err != nil {
			return err
		}
		if err := mustAffect(res, "api key", id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE parent_id = ? AND revoked_at = 0`, micros(now), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

// TouchAPIKey records a use of the key at most once a minute.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ?1
			WHERE id = ?2 AND last_used_at <= ?1 - 60000000`, micros(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("touch api key: %w", err)
	}
	return nil
}

// TakeTokens takes rate-limit tokens from the bucket r.Bucket in one write.
func (s *Store) TakeTokens(ctx context.Context, r hookd.TokenRequest) (hookd.TokenGrant, error) {
	var g hookd.TokenGrant
	err := s.writeLazy(ctx, func(tx *sql.Tx) error {
		var tokens float64
		var updated int64
		err := tx.QueryRowContext(ctx, `SELECT tokens, updated_at FROM api_buckets WHERE bucket = ?`, r.Bucket).Scan(&tokens, &updated)
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		g = r.Take(tokens, fromMicros(updated))
		if g.Granted == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO api_buckets (bucket, tokens, updated_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (bucket) DO UPDATE SET tokens = ?2, updated_at = max(updated_at, ?3)`,
			r.Bucket, g.Remaining, micros(r.Now))
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
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM endpoints`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count endpoints: %w", mapErr(err))
	}
	return n, nil
}
