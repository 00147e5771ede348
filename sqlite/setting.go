package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Setting returns the stored value of key or ENOTFOUND.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.reader.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", notFound("setting", key)
	} else if err != nil {
		return "", fmt.Errorf("setting: %w", mapErr(err))
	}
	return v, nil
}

// PutSettingIfAbsent stores key=value unless key exists and reports
// whether it stored.
func (s *Store) PutSettingIfAbsent(ctx context.Context, key, value string) (bool, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO NOTHING`, key, value)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("put setting: %w", err)
	}
	return n > 0, nil
}
