package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the migrations that Migrate applies, the files
// NNNN_*.sql of postgres/migrations at the root of the returned FS. Tests
// key the migrated schemas they keep between runs by its contents
// (testenv.NewSchemaPool).
func Migrations() fs.FS {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // a valid constant path of the embedded FS
	}
	return fsys
}

// migrateLockTimeout is how many seconds a node waits for another node's
// migration to finish (polled once a second by goose's session locker).
const migrateLockTimeout = 300

// Migrate applies the embedded migrations (postgres/migrations/NNNN_*.sql)
// that the database at url does not have yet, in the first schema of its
// search_path, and records them in goose_db_version there.
//
// It runs pressly/goose v3's Provider with its Postgres session locker
// (pg_try_advisory_lock): when several nodes start at once, one migrates
// and the others wait for it, then find nothing to do. The lock key is
// derived from the schema name, so different schemas migrate independently.
// Errors: EUNAVAILABLE when the database cannot be reached.
func Migrate(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("migrate: parse url: %w", err)
	}
	return migrateConfig(ctx, cfg)
}

func migrateConfig(ctx context.Context, cfg *pgx.ConnConfig) error {
	db := stdlib.OpenDB(*cfg)
	defer db.Close()

	var lockID int64
	var schema *string
	err := db.QueryRowContext(ctx,
		"SELECT current_schema(), hashtextextended('hookd.migrate.' || coalesce(current_schema(), ''), 0)",
	).Scan(&schema, &lockID)
	if err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	if schema == nil {
		return errors.New("migrate: no schema of search_path exists; create it first")
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID),
		lock.WithLockTimeout(1, migrateLockTimeout),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", translate(err))
	}
	return nil
}
