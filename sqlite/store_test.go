package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
	"github.com/hookd/hookd/sqlite"
	"github.com/hookd/hookd/storetest"
)

// dbFiles copies a SQLite file migrated once per process for each test
// (see testenv.FileTemplate).
var dbFiles = testenv.NewFileTemplate(func(ctx context.Context, path string) error { return sqlite.Migrate(ctx, path) })

// open returns a store on a temporary copy of a migrated, empty file
// (Open on a fresh file is TestMigrationsIdempotent's), closed at cleanup.
func open(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dbFiles.Path(t), sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) hookd.Store { return open(t) })
}

func TestOpenRefusesSecondProcess(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookd.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err == nil || !strings.Contains(err.Error(), "is in use by another hookd process") {
		t.Fatalf("second Open: got %v, want \"in use by another hookd process\"", err)
	}
	if err := sqlite.Migrate(ctx, path); err == nil {
		t.Errorf("Migrate while open: got nil error, want the lock refusal")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookd.db")
	if err := sqlite.Migrate(ctx, path); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := sqlite.Migrate(ctx, path); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open a migrated database: %v", err)
	}
	defer s.Close()
	if ok, err := s.PutSettingIfAbsent(ctx, "k", "v"); err != nil || !ok {
		t.Fatalf("PutSettingIfAbsent: got %v, %v", ok, err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("re-Open: %v", err)
	}
	if v, err := s.Setting(ctx, "k"); err != nil || v != "v" {
		t.Errorf("data across re-open: got %q, %v; want \"v\"", v, err)
	}
}

func TestPragmas(t *testing.T) {
	t.Parallel()
	s := open(t)
	cases := []struct {
		reader bool
		pragma string
		want   string
	}{
		{false, "journal_mode", "wal"},
		{false, "synchronous", "2"}, // FULL
		{false, "foreign_keys", "1"},
		{false, "busy_timeout", "5000"},
		{false, "query_only", "0"},
		{true, "journal_mode", "wal"},
		{true, "foreign_keys", "1"},
		{true, "query_only", "1"},
	}
	for _, c := range cases {
		got, err := sqlite.Pragma(t.Context(), s, c.reader, c.pragma)
		if err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("reader=%v PRAGMA %s: got %q, want %q", c.reader, c.pragma, got, c.want)
		}
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	t.Parallel()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if got := hookd.ErrorCode(s.Ping(t.Context())); got != hookd.EUNAVAILABLE {
		t.Errorf("Ping after Close: got code %q, want %q", got, hookd.EUNAVAILABLE)
	}
	_, err = s.IngestEvents(t.Context(), []hookd.NewEvent{{}})
	if got := hookd.ErrorCode(err); got != hookd.EUNAVAILABLE {
		t.Errorf("IngestEvents after Close: got code %q, want %q", got, hookd.EUNAVAILABLE)
	}
}

// A process that died holding leases (kill -9) leaves them in the file; the
// next Open holds the lock, so it knows they are stale and frees them at once.
func TestOpenReleasesStaleLeases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hookd.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	now := time.Now().UTC()
	ep := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, now), URL: "https://example.com/h", Secret: hookd.NewSecret(), CreatedAt: now, UpdatedAt: now}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	ev := hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, now), Type: "a.b", Payload: []byte(`{}`), CreatedAt: now}}
	if _, err := s.IngestEvents(ctx, []hookd.NewEvent{ev}); err != nil {
		t.Fatal(err)
	}
	claims, err := s.ClaimDue(ctx, hookd.ClaimRequest{Owner: "dead-node", Now: now, Lease: time.Hour, Limit: 10})
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim: got %d claims, %v; want 1", len(claims), err)
	}
	s.Close() // the owner "dies" without completing

	s2, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	claims, err = s2.ClaimDue(ctx, hookd.ClaimRequest{Owner: "new-node", Now: now, Lease: time.Minute, Limit: 10})
	if err != nil || len(claims) != 1 {
		t.Fatalf("claim after reopen: got %d claims, %v; want the stale one back", len(claims), err)
	}
}

// Ingest and other durable writes commit with synchronous=FULL; lazy writes
// (claims, completions) with NORMAL, and the writer is FULL again after.
func TestSynchronousPerWrite(t *testing.T) {
	t.Parallel()
	s := open(t)
	for _, c := range []struct {
		lazy bool
		want string
	}{{false, "2"}, {true, "1"}, {false, "2"}} {
		inside, after, err := sqlite.SyncDuring(t.Context(), s, c.lazy)
		if err != nil {
			t.Fatal(err)
		}
		if inside != c.want || after != "2" {
			t.Errorf("lazy=%v: synchronous inside %s after %s, want %s and 2 (FULL)", c.lazy, inside, after, c.want)
		}
	}
}
