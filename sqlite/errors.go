package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookd/hookd"
)

// mapErr translates driver errors at the boundary: no rows is ENOTFOUND, a
// unique or primary key clash is ECONFLICT, a busy, locked, full or failing
// database is EUNAVAILABLE. Other errors (and *hookd.Error) pass unchanged.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var he *hookd.Error
	if errors.As(err, &he) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return hookd.Errorf(hookd.ENOTFOUND, "not found")
	}
	// database/sql does not export its "database is closed" error.
	if errors.Is(err, sql.ErrConnDone) || err.Error() == "sql: database is closed" {
		return hookd.Errorf(hookd.EUNAVAILABLE, "database closed")
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return hookd.Errorf(hookd.ECONFLICT, "already exists")
		}
		switch se.Code() & 0xff { // primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY:
			return &unavailableError{err: err}
		}
	}
	return err
}

// notFound is the ENOTFOUND error for a missing thing.
func notFound(what, id string) error {
	return hookd.Errorf(hookd.ENOTFOUND, "%s %s not found", what, id)
}

// unavailableError is EUNAVAILABLE that keeps the driver error for logs.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return fmt.Sprintf("database unavailable: %v", e.err) }
func (e *unavailableError) Unwrap() []error {
	return []error{hookd.Errorf(hookd.EUNAVAILABLE, "database unavailable"), e.err}
}
