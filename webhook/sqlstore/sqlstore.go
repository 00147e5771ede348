// Package sqlstore is a webhook.Store on a SQL database through
// database/sql: SQLite (modernc.org/sqlite, driver "sqlite") and PostgreSQL
// (pgx, driver "pgx" from github.com/jackc/pgx/v5/stdlib). The caller opens
// the *sql.DB with the driver of its choice; this package imports none. It
// must not import any other hookd package except webhook.
//
// One table holds one row per webhook-id:
//
//	idem_key   TEXT PRIMARY KEY  -- the webhook-id
//	state      TEXT              -- 'processing' or 'done'
//	token      TEXT              -- the claim token while processing
//	expires_at BIGINT            -- Unix milliseconds: end of lease or TTL
//
// A claim is one INSERT … ON CONFLICT DO UPDATE … WHERE expires_at <= now:
// it inserts the row, or takes over an expired one, or changes nothing (the
// id is held); the database makes it atomic. Expired rows are harmless and
// are reclaimed in place; DeleteExpired removes them in bulk.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hookd/hookd/webhook"
)

// Dialect selects the SQL flavour: placeholders and types.
type Dialect int

// The supported dialects.
const (
	// SQLite uses "?" placeholders. Open the database with a busy timeout
	// (modernc.org/sqlite: "?_pragma=busy_timeout(5000)") so concurrent
	// claims wait for the write lock instead of failing.
	SQLite Dialect = iota + 1
	// Postgres uses "$1" placeholders.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// DefaultTable is the table name unless Options says otherwise.
const DefaultTable = "webhook_idempotency"

// Options configures a Store.
type Options struct {
	// Dialect of the database. Required.
	Dialect Dialect
	// Table is the table's name (default DefaultTable): letters, digits
	// and underscores, not starting with a digit.
	Table string
	// Now gives the current time (default time.Now). Expiry is computed
	// from it, not from the database's clock.
	Now func() time.Time
}

// Store is a webhook.Store on a SQL database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	table   string
	now     func() time.Time

	claimSQL, selectSQL, completeSQL, releaseSQL, expiredSQL string
}

var _ webhook.Store = (*Store)(nil)

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// New returns a Store on db. It returns an error when the dialect is unknown
// or the table name is not a plain identifier. It does not touch the
// database: call CreateTable once (or create the table with your own
// migrations, using Schema).
func New(db *sql.DB, opts Options) (*Store, error) {
	if opts.Dialect != SQLite && opts.Dialect != Postgres {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", opts.Dialect)
	}
	if opts.Table == "" {
		opts.Table = DefaultTable
	}
	if !identifier.MatchString(opts.Table) {
		return nil, fmt.Errorf("sqlstore: bad table name %q", opts.Table)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{db: db, dialect: opts.Dialect, table: opts.Table, now: opts.Now}
	t := s.table
	s.claimSQL = s.rebind(`INSERT INTO ` + t + ` (idem_key, state, token, expires_at) VALUES (?, 'processing', ?, ?)
ON CONFLICT (idem_key) DO UPDATE SET state = excluded.state, token = excluded.token, expires_at = excluded.expires_at
WHERE ` + t + `.expires_at <= ?`)
	s.selectSQL = s.rebind(`SELECT state, expires_at FROM ` + t + ` WHERE idem_key = ?`)
	s.completeSQL = s.rebind(`INSERT INTO ` + t + ` (idem_key, state, token, expires_at) VALUES (?, 'done', '', ?)
ON CONFLICT (idem_key) DO UPDATE SET state = 'done', token = '', expires_at = excluded.expires_at`)
	s.releaseSQL = s.rebind(`DELETE FROM ` + t + ` WHERE idem_key = ? AND token = ? AND state = 'processing'`)
	s.expiredSQL = s.rebind(`DELETE FROM ` + t + ` WHERE expires_at <= ?`)
	return s, nil
}

// Schema returns the statements that create the table and its expiry index,
// for the Store's dialect and table; CreateTable runs them.
func (s *Store) Schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + s.table + ` (
	idem_key   TEXT PRIMARY KEY,
	state      TEXT NOT NULL,
	token      TEXT NOT NULL,
	expires_at BIGINT NOT NULL
)`,
		`CREATE INDEX IF NOT EXISTS ` + s.table + `_expires_at ON ` + s.table + ` (expires_at)`,
	}
}

// CreateTable creates the table and its index if they do not exist yet.
func (s *Store) CreateTable(ctx context.Context) error {
	for _, q := range s.Schema() {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create table %s: %w", s.table, err)
		}
	}
	return nil
}

// claimAttempts bounds the retries of a claim whose row vanished (was
// released or expired) between the insert and the select.
const claimAttempts = 5

// Claim implements webhook.Store.
func (s *Store) Claim(ctx context.Context, key string, lease time.Duration) (webhook.Claim, error) {
	for range claimAttempts {
		now := s.now()
		token := webhook.NewToken()
		expires := now.Add(lease)
		res, err := s.db.ExecContext(ctx, s.claimSQL, key, token, expires.UnixMilli(), now.UnixMilli())
		if err != nil {
			return webhook.Claim{}, fmt.Errorf("claim: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return webhook.Claim{}, fmt.Errorf("claim: %w", err)
		}
		if n == 1 {
			return webhook.Claim{State: webhook.Claimed, Token: token, ExpiresAt: expires}, nil
		}
		var (
			state string
			ms    int64
		)
		err = s.db.QueryRowContext(ctx, s.selectSQL, key).Scan(&state, &ms)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released meanwhile: claim again
		}
		if err != nil {
			return webhook.Claim{}, fmt.Errorf("claim: %w", err)
		}
		at := time.UnixMilli(ms)
		if !now.Before(at) {
			continue // expired meanwhile: claim again
		}
		if state == "done" {
			return webhook.Claim{State: webhook.Done, ExpiresAt: at}, nil
		}
		return webhook.Claim{State: webhook.Processing, ExpiresAt: at}, nil
	}
	return webhook.Claim{}, fmt.Errorf("claim: %s changed %d times in a row", key, claimAttempts)
}

// Complete implements webhook.Store.
func (s *Store) Complete(ctx context.Context, key string, ttl time.Duration) error {
	if _, err := s.db.ExecContext(ctx, s.completeSQL, key, s.now().Add(ttl).UnixMilli()); err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	return nil
}

// Release implements webhook.Store.
func (s *Store) Release(ctx context.Context, key, token string) error {
	if _, err := s.db.ExecContext(ctx, s.releaseSQL, key, token); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

// DeleteExpired deletes the rows whose lease or TTL has ended and returns how
// many it deleted. Run it now and then (e.g. hourly) to keep the table small;
// correctness does not depend on it.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.expiredSQL, s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired: %w", err)
	}
	return n, nil
}

// rebind turns "?" placeholders into "$1", "$2"… for Postgres. The queries
// of this package hold no "?" other than placeholders.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
