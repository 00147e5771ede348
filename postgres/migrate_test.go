package postgres

import (
	"context"
	"io/fs"
	"sync"
	"testing"

	"github.com/hookd/hookd/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// Several nodes starting at once: one migrates, the others wait and find
// nothing to do; the tables land in the URL's schema, not public.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	url := testenv.PostgresSchema(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = Migrate(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate #%d: %v", i, err)
		}
	}
	if err := Migrate(ctx, url); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables
		WHERE schemaname = current_schema() AND tablename IN ('endpoints', 'events', 'deliveries', 'attempts', 'job_leases', 'settings')`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Fatalf("got %d tables in the schema, want 6", n)
	}
	var versions int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if versions != len(files) {
		t.Fatalf("got %d applied migrations, want %d (each embedded file once)", versions, len(files))
	}
}
