package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/hookd/hookd"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// translate maps driver errors to hookd error kinds at the package boundary:
// missing rows are ENOTFOUND, unique violations ECONFLICT, and everything
// that means "the database cannot be reached right now" EUNAVAILABLE (the
// API answers 503 and /readyz turns unready). The driver error is kept in
// the text for logs; callers see only the hookd message. Other errors are
// returned as they are.
func translate(err error) error {
	var herr *hookd.Error
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &herr):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return hookd.Errorf(hookd.ENOTFOUND, "not found")
	case errors.As(err, &pgErr):
		switch {
		case pgErr.Code == "23505": // unique_violation
			return fmt.Errorf("%w (%s)", hookd.Errorf(hookd.ECONFLICT, "already exists"), pgErr.ConstraintName)
		case pgErr.Code == "22021" || pgErr.Code == "22P05": // character_not_in_repertoire, untranslatable_character
			// NUL or invalid UTF-8 in text; CheckText refuses it before any SQL,
			// this is the net for a path that forgot to.
			return fmt.Errorf("%w (%s)", hookd.Errorf(hookd.EINVALID, "text must be valid UTF-8 without NUL characters"), pgErr.Code)
		case unavailableCode(pgErr.Code):
			return unavailable(err)
		}
		return err
	case errors.Is(err, context.Canceled):
		return err // the caller gave up; nothing is wrong with the database
	case unavailableErr(err):
		return unavailable(err)
	}
	return err
}

func unavailable(cause error) error {
	return fmt.Errorf("%w (%v)", hookd.Errorf(hookd.EUNAVAILABLE, "database unavailable"), cause)
}

// unavailableCode reports server errors that mean the database cannot serve
// now: connection exceptions, shutdowns, too many connections, read-only
// standby after a failover.
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"): // connection_exception
		return true
	case code == "57P01", code == "57P02", code == "57P03": // admin/crash shutdown, cannot connect now
		return true
	case code == "53300": // too_many_connections
		return true
	case code == "25006": // read_only_sql_transaction
		return true
	}
	return false
}

// unavailableErr reports client-side errors of a lost or unreachable
// server: connect failures, network errors, timeouts (also waiting for a
// pool connection), a closed pool.
func unavailableErr(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr):
		return true
	case pgconn.SafeToRetry(err), pgconn.Timeout(err):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &netErr):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case strings.Contains(err.Error(), "closed pool"), strings.Contains(err.Error(), "conn closed"):
		return true
	}
	return false
}
