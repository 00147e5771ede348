package testenv

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	adminMu sync.Mutex
	adminDB *pgxpool.Pool // on HOOKD_TEST_POSTGRES_URL, for the whole process
)

// admin returns the process's connection pool to the test database, which
// creates and drops the tests' schemas (one connection each time cost two
// backend start-ups per test). It is opened at the first use.
func admin(t testing.TB, base string) *pgxpool.Pool {
	t.Helper()
	adminMu.Lock()
	defer adminMu.Unlock()
	if adminDB == nil {
		db, err := pgxpool.New(context.Background(), base)
		if err != nil {
			t.Fatalf("connect %s: %v", PostgresEnv, err)
		}
		adminDB = db
	}
	return adminDB
}

func dropSchema(db *pgxpool.Pool, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := db.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	return err
}

// schemaURL is base with search_path set to schema alone.
func schemaURL(t testing.TB, base, schema string) string {
	t.Helper()
	u, err := urlWithSchema(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// urlWithSchema is base with search_path set to schema alone.
func urlWithSchema(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
