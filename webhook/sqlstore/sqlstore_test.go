package sqlstore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/webhook"
	"github.com/hookd/hookd/webhook/sqlstore"
	"github.com/hookd/hookd/webhook/storetest"
)

// openSQLite opens a temporary SQLite file the way the package doc advises.
func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "idem.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStore(t *testing.T, db *sql.DB, opts sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateTable(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTable(ctx); err != nil { // idempotent
		t.Fatalf("second CreateTable: %v", err)
	}
	return s
}

// backends are the databases every test runs on.
var backends = []struct {
	name    string
	dialect sqlstore.Dialect
	open    func(t *testing.T) *sql.DB
}{
	{"SQLite", sqlstore.SQLite, openSQLite},
	{"Postgres", sqlstore.Postgres, openPostgres},
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, b.open(t), sqlstore.Options{Dialect: b.dialect})
			storetest.Run(t, func(t *testing.T) webhook.Store { return s })
		})
	}
}

func TestDeleteExpired(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
			s := newStore(t, b.open(t), sqlstore.Options{
				Dialect: b.dialect,
				Table:   "idem_custom",
				Now:     func() time.Time { return now },
			})
			if err := s.Complete(ctx, "old", time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Claim(ctx, "lease", time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := s.Complete(ctx, "new", time.Hour); err != nil {
				t.Fatal(err)
			}
			now = now.Add(2 * time.Minute)
			n, err := s.DeleteExpired(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != 2 {
				t.Errorf("got %d rows deleted, want 2", n)
			}
			if c, err := s.Claim(ctx, "new", time.Minute); err != nil || c.State != webhook.Done {
				t.Errorf("claim new: got %v, %v; want done", c.State, err)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts sqlstore.Options
	}{
		{"no dialect", sqlstore.Options{}},
		{"unknown dialect", sqlstore.Options{Dialect: 9}},
		{"injection", sqlstore.Options{Dialect: sqlstore.SQLite, Table: "t; DROP TABLE x"}},
		{"schema-qualified", sqlstore.Options{Dialect: sqlstore.Postgres, Table: "public.t"}},
		{"leading digit", sqlstore.Options{Dialect: sqlstore.SQLite, Table: "1t"}},
	}
	for _, tt := range tests {
		if _, err := sqlstore.New(nil, tt.opts); err == nil {
			t.Errorf("%s: got no error, want one", tt.name)
		}
	}
}
