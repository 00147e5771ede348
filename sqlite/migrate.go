package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrate applies the pending embedded migrations to the database at path
// (creating the file if needed) and returns. It takes the same process lock
// as Open, so it fails while a hookd process is using the database.
func Migrate(ctx context.Context, path string) error {
	s, err := Open(ctx, path, Options{}) // Open migrates
	if err != nil {
		return err
	}
	return s.Close()
}

// migrate runs goose's Provider on its own short-lived connection pool, so
// that goose may use several connections without meeting the one-connection
// writer.
func migrate(ctx context.Context, dsn string) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer db.Close()
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", mapErr(err))
	}
	return nil
}
