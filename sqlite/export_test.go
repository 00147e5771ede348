package sqlite

import (
	"context"
	"fmt"
)

// Pragma reads one PRAGMA on the writer or on a reader connection.
func Pragma(ctx context.Context, s *Store, reader bool, name string) (string, error) {
	db := s.writer
	if reader {
		db = s.reader
	}
	var v any
	if err := db.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
		return "", err
	}
	return fmt.Sprint(v), nil
}
