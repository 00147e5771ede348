package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/sqlite"
)

// TestMinuteCodesWrittenBefore: a minute row and its code rows as the code
// before migration 0008 wrote them (every code in stat_minute_codes, no
// code of the row's own) add up with completions into the same minute
// after it, in the minute read and in the hour rows RollupHours derives.
func TestMinuteCodesWrittenBefore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hookd.db")
	s, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	minute := h.Add(17 * time.Minute)
	ep := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, h), TenantID: "t1", URL: "https://example.com/hook",
		Secret: hookd.NewSecret(), CreatedAt: h, UpdatedAt: h}
	if err := s.CreateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO stat_minutes (endpoint_id, bucket, tenant_id, attempts, succeeded, failed, l00) VALUES (?1, ?2, 't1', 3, 2, 1, 3)`,
		`INSERT INTO stat_minute_codes (endpoint_id, bucket, code, tenant_id, n) VALUES (?1, ?2, 200, 't1', 2), (?1, ?2, 500, 't1', 1)`,
	} {
		if _, err := db.ExecContext(ctx, q, ep.ID, minute.UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs := make([]hookd.NewEvent, 3)
	for i := range evs {
		evs[i] = hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, h), TenantID: "t1", Type: "x",
			Payload: []byte(`{}`), CreatedAt: h}}
	}
	if _, err := s.IngestEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	cl, err := s.ClaimDue(ctx, hookd.ClaimRequest{Owner: "n", Now: h.Add(time.Hour), Lease: time.Hour, Limit: 3})
	if err != nil || len(cl) != 3 {
		t.Fatalf("ClaimDue: %d claims, %v", len(cl), err)
	}
	for i, code := range []int{500, 200, 200} { // the row's first own code: 500
		c := hookd.Completion{Owner: "n", Outcome: hookd.OutcomeSucceeded, Attempt: hookd.Attempt{DeliveryID: cl[i].Delivery.ID,
			Number: 1, StartedAt: minute.Add(time.Duration(i) * time.Second), StatusCode: code, Latency: time.Millisecond}}
		if code >= 300 {
			c.Outcome, c.NextAttemptAt = hookd.OutcomeRetry, h.Add(2*time.Hour)
		}
		if err := s.CompleteAttempts(ctx, []hookd.Completion{c}, hookd.CircuitPolicy{}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[int]int64{200: 4, 500: 2}
	read := func(what string) {
		t.Helper()
		st, err := s.ReadStats(ctx, hookd.StatsQuery{EndpointID: ep.ID, Since: h, Until: h.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if st.Attempts != 6 || !reflect.DeepEqual(st.StatusCodes, want) {
			t.Errorf("%s: %d attempts, codes %v; want 6, %v", what, st.Attempts, st.StatusCodes, want)
		}
		all, err := s.ReadStats(ctx, hookd.StatsQuery{Since: h, Until: h.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(all.StatusCodes, want) {
			t.Errorf("%s, overall: codes %v; want %v", what, all.StatusCodes, want)
		}
	}
	read("minute rows")
	if _, err := s.RollupHours(ctx, h.Add(time.Hour), 2*time.Hour, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	read("hour rows")
}
