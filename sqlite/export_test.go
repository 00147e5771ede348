package sqlite

import (
	"context"
	"database/sql"
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

// SyncDuring reports PRAGMA synchronous inside a durable (lazy=false) or a
// lazy write transaction, and on the writer after it.
func SyncDuring(ctx context.Context, s *Store, lazy bool) (inside, after string, err error) {
	read := func(tx *sql.Tx) error {
		var v any
		if err := tx.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&v); err != nil {
			return err
		}
		inside = fmt.Sprint(v)
		return nil
	}
	if lazy {
		err = s.writeLazy(ctx, read)
	} else {
		err = s.write(ctx, read)
	}
	if err != nil {
		return "", "", err
	}
	after, err = Pragma(ctx, s, false, "synchronous")
	return inside, after, err
}

// SetNoRollups makes s's completions write no rollups (true) or write
// them, as always (false): BenchmarkCompleteRollups weighs the write.
func SetNoRollups(s *Store, on bool) { s.noRollups = on }
