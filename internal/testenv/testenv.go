// Package testenv gives tests the external services they need: a migrated
// Postgres schema from a pool (SchemaPool, kept or dropped by Main at exit) or a
// fresh empty one (PostgresSchema), the Redis URL, a copy of a migrated database file
// (FileTemplate), a TCP proxy that cuts Postgres away (Proxy), promtool,
// and the check of the Start/Stop contract (CheckLifecycle). A test that needs a service
// skips when its URL is unset on a developer's machine, and fails when
// CI=true. It must not import any other hookd package except hookd, so
// that the tests of every package can use it.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Environment variables read by the tests.
const (
	PostgresEnv = "HOOKD_TEST_POSTGRES_URL"
	RedisEnv    = "HOOKD_TEST_REDIS_URL"
	// SchemaKeepEnv is how many migrated schemas SchemaPools keep in the
	// test database between runs (16 when unset; 0: none).
	SchemaKeepEnv = "HOOKD_TEST_SCHEMA_KEEP"
)

func required(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, but CI requires it", env)
		}
		t.Skipf("%s not set; skipping", env)
	}
	return v
}

// RedisURL returns the Redis URL or skips (fails under CI).
func RedisURL(t testing.TB) string {
	t.Helper()
	return required(t, RedisEnv)
}

// PostgresURL returns the Postgres URL or skips (fails under CI).
func PostgresURL(t testing.TB) string {
	t.Helper()
	return required(t, PostgresEnv)
}

// PostgresSchema creates a fresh, empty schema for this test, drops it at
// cleanup, and returns a connection URL whose search_path is that schema
// only, so tests run in parallel without seeing each other's tables. It is
// for tests that need the schema raw (the migrations' tests, tests that
// alter tables or want never-analyzed ones); a test that wants a migrated
// hookd store takes a SchemaPool's schema, which costs no migration.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	schema := "t_" + RandomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := admin(t, base)
	if _, err := db.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := dropSchema(db, schema); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schemaURL(t, base, schema)
}

// RandomHex returns 2n random lowercase hex characters.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Promtool returns the path of Prometheus' promtool: $HOOKD_TEST_PROMTOOL,
// else promtool on PATH. Without one it skips the test on a developer's
// machine and fails it when CI is set (.ci/run installs promtool).
func Promtool(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HOOKD_TEST_PROMTOOL"); p != "" {
		return p
	}
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("promtool not found (HOOKD_TEST_PROMTOOL unset, none on PATH), but CI requires it")
	}
	t.Skip("promtool not found: set HOOKD_TEST_PROMTOOL or put promtool on PATH")
	return ""
}
