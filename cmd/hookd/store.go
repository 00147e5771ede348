package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/postgres"
	"github.com/hookd/hookd/sqlite"
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
		return sqlite.Open(ctx, conn)
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

// migrateCmd applies the migrations of --db and exits.
type migrateCmd struct {
	DB string `name:"db" default:"${default_db}" help:"Database: sqlite:PATH or postgres://…"`
}

func (m migrateCmd) Run(ctx context.Context) error {
	driver, conn, err := parseDB(m.DB)
	if err != nil {
		return err
	}
	if driver == "sqlite" {
		return sqlite.Migrate(ctx, conn)
	}
	return postgres.Migrate(ctx, conn)
}
