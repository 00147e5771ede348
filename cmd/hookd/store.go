package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openStore opens the store --db names. Postgres that cannot be reached is
// retried with backoff (logged each time) until ctx ends; SQLite errors, such
// as the database being in use by another process, fail at once.
func openStore(ctx context.Context, c *config, log *slog.Logger) (hookd.Store, error) {
	driver, conn, err := parseDB(c.DB)
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		return sqlite.Open(ctx, conn, sqlite.Options{})
	}
	delay := 500 * time.Millisecond
	for {
		s, err := postgres.Open(ctx, conn, postgres.Options{PollOnly: c.PollOnly})
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		log.Error("postgres unreachable; retrying", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open postgres: %w", err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 30*time.Second)
	}
}

// migrateCmd applies the migrations of --db, prints what it did and exits.
type migrateCmd struct {
	DB string `name:"db" default:"${default_db}" help:"Database: sqlite:PATH or postgres://…"`
}

func (m migrateCmd) Run(ctx context.Context, stdout io.Writer) error {
	driver, conn, err := parseDB(m.DB)
	if err != nil {
		return &usageError{err.Error()}
	}
	before := schemaVersion(ctx, driver, conn)
	if driver == "sqlite" {
		err = sqlite.Migrate(ctx, conn)
	} else {
		err = postgres.Migrate(ctx, conn)
	}
	if err != nil {
		return err
	}
	after := schemaVersion(ctx, driver, conn)
	if after == before {
		_, err = fmt.Fprintf(stdout, "hookd: %s is up to date (schema version %d)\n", redactDB(m.DB), after)
	} else {
		_, err = fmt.Fprintf(stdout, "hookd: migrated %s from schema version %d to %d\n", redactDB(m.DB), before, after)
	}
	return err
}

// schemaVersion is the highest migration applied to the database (0 when
// none is, or the database does not exist yet).
func schemaVersion(ctx context.Context, driver, conn string) int64 {
	var db *sql.DB
	if driver == "sqlite" {
		if _, err := os.Stat(conn); err != nil {
			return 0
		}
		db, _ = sql.Open("sqlite", "file:"+conn+"?mode=ro&_pragma=busy_timeout(5000)")
	} else {
		cfg, err := pgx.ParseConfig(conn)
		if err != nil {
			return 0
		}
		db = stdlib.OpenDB(*cfg)
	}
	defer db.Close()
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&v); err != nil {
		return 0
	}
	return v.Int64
}
