package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
)

// TestLimitWhateverThePlan: ClaimDue and Purge touch at most limit rows
// whatever plan Postgres picks. With hash and merge joins, hashing, sorting
// and materialisation off (session settings, as the planner may choose on a
// small analyzed table), a "WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
// LOCKED)" subquery is rescanned for every outer row and, skipping the rows
// the statement itself just locked, yields the next ones: ClaimDue with
// Limit 2 leased all 6 due deliveries. Seen first as conformance failures
// (Limit 4 claimed 6, Limit 10 claimed 1005) on schemas whose tables had
// been analyzed.
func TestLimitWhateverThePlan(t *testing.T) {
	t.Parallel()
	url := testenv.PostgresSchema(t) + "&enable_hashjoin=off&enable_mergejoin=off&enable_material=off&enable_hashagg=off&enable_sort=off"
	s, err := Open(context.Background(), url, Options{PollOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	newEndpoint(t, s, func(e *hookd.Endpoint) { e.EventTypes = []string{"a"} })
	var evs []hookd.NewEvent
	for i := range 6 {
		evs = append(evs, newEvent("a", "", "", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	ingest(t, s, evs...)
	if cs := claim(t, s, hookd.ClaimRequest{Owner: "o", Now: t0.Add(time.Hour), Limit: 2}); len(cs) != 2 {
		t.Errorf("ClaimDue with Limit 2 of 6 due: got %d claims, want 2", len(cs))
	}

	// Events without deliveries (no endpoint takes type "none").
	var old []hookd.NewEvent
	for i := range 4 {
		old = append(old, newEvent("none", "", "", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	ingest(t, s, old...)
	_, events, err := s.Purge(context.Background(), t0.Add(time.Hour), 1)
	if err != nil || events != 1 {
		t.Errorf("Purge with limit 1: got %d events, %v; want 1", events, err)
	}
}
