package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// t0 is a fixed time with sub-microsecond digits, to see truncation.
var t0 = time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.UTC)

// open returns a migrated Store in an empty schema of the pool, closed at
// cleanup. The pool migrated the schema, so Open skips its migration check
// (NoMigrate: a connection and goose's lock and version queries, 10-15 ms
// an Open at load 5); Open's migrations run in TestMigrateConcurrent and
// TestLimitWhateverThePlan, on raw schemas, and in every other package's
// Postgres tests.
func open(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	url := schemas.Schema(t)
	opts.NoMigrate = true
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

func newEndpoint(t testing.TB, s *Store, mod func(e *hookd.Endpoint)) *hookd.Endpoint {
	t.Helper()
	e := &hookd.Endpoint{
		ID:        hookd.NewID(hookd.PrefixEndpoint, t0),
		URL:       "https://example.com/hook",
		Secret:    hookd.NewSecret(),
		CreatedAt: t0,
		UpdatedAt: t0,
	}
	if mod != nil {
		mod(e)
	}
	if err := s.CreateEndpoint(context.Background(), e); err != nil {
		t.Fatalf("CreateEndpoint: %v", err)
	}
	return e
}

func newEvent(typ, tenant, key string, at time.Time) hookd.NewEvent {
	return hookd.NewEvent{Event: hookd.Event{
		ID:             hookd.NewID(hookd.PrefixEvent, at),
		TenantID:       tenant,
		Type:           typ,
		Payload:        json.RawMessage(fmt.Sprintf(`{"z":1,  "a":[2,1], "k":%q}`, key)),
		IdempotencyKey: key,
		CreatedAt:      at,
	}}
}

func ingest(t testing.TB, s *Store, evs ...hookd.NewEvent) []hookd.IngestResult {
	t.Helper()
	res, err := s.IngestEvents(context.Background(), evs)
	if err != nil {
		t.Fatalf("IngestEvents: %v", err)
	}
	return res
}

func claim(t testing.TB, s *Store, r hookd.ClaimRequest) []hookd.Claim {
	t.Helper()
	if r.Lease == 0 {
		r.Lease = time.Minute
	}
	cs, err := s.ClaimDue(context.Background(), r)
	if err != nil {
		t.Fatalf("ClaimDue: %v", err)
	}
	return cs
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := hookd.ErrorCode(err); got != code {
		t.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
}
