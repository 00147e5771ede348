package ui

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/api"
	"github.com/hookd/hookd/auth"
	"github.com/hookd/hookd/sqlite"
)

// BenchmarkOverview1000 renders the overview of 1,000 endpoints with a day
// of stats (24 hourly attempts each, some failing) on SQLite: the whole
// request, store reads included, as a signed-in admin's browser makes it
// when the page refreshes itself; first-cpu-ms is the first render, which
// reads the whole day.
func BenchmarkOverview1000(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "hookd.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	const n = 1000
	for i := range n {
		ts := now.Add(-48 * time.Hour)
		e := &hookd.Endpoint{ID: hookd.NewID(hookd.PrefixEndpoint, ts), TenantID: fmt.Sprintf("tenant-%02d", i%40),
			URL: fmt.Sprintf("https://hooks-%04d.example.com/webhooks", i), Description: "customer endpoint",
			Secret: hookd.NewSecret(), CreatedAt: ts, UpdatedAt: ts}
		if err := store.CreateEndpoint(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	seedAllEndpoints(b, store, now, n)
	keys := auth.NewKeys(store, auth.KeysOptions{AdminHash: sha256.Sum256([]byte(adminKey)), Logger: quiet})
	portal, err := auth.NewPortal(ctx, store, auth.PortalOptions{})
	if err != nil {
		b.Fatal(err)
	}
	a := api.New(api.Config{Store: store, APIKeyHash: sha256.Sum256([]byte(adminKey)), Keys: keys, Portal: portal, Logger: quiet})
	s := New(Config{Store: store, API: a.InProcess(), Keys: keys, Portal: portal, Stats: StoreStats(store), Logger: quiet})
	h := s.Handler()
	sess, err := portal.NewSession(ctx, auth.Principal{Admin: true}, "", "")
	if err != nil {
		b.Fatal(err)
	}
	cookie := &http.Cookie{Name: auth.SessionCookie, Value: sess.Secret}
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/ui/", nil)
		req.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	cpu0 := cpuTime()
	if rec := get(); rec.Code != 200 || strings.Count(rec.Body.String(), `<tr data-search=`) != n {
		b.Fatalf("overview: %d with %d rows, want 200 with %d", rec.Code, strings.Count(rec.Body.String(), `<tr data-search=`), n)
	}
	// The first render reads the whole day (nothing kept yet, see dayCache).
	first := cpuTime() - cpu0
	cpu0 = cpuTime()
	n0 := 0
	for b.Loop() {
		if rec := get(); rec.Code != 200 {
			b.Fatal(rec.Code)
		}
		n0++
	}
	// CPU time per render: on a shared, oversubscribed machine the wall
	// time (ns/op) also counts the waits for a core.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(n0), "cpu-ms/op")
	b.ReportMetric(float64(first)/float64(time.Millisecond), "first-cpu-ms")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// seedAllEndpoints records one attempt per endpoint per hour over the last
// day through the store's write path (one event fans out to every
// endpoint of the empty tenant... each endpoint here has a tenant, so each
// event names its endpoint).
func seedAllEndpoints(b *testing.B, store hookd.Store, now time.Time, n int) {
	ctx := context.Background()
	eps, _, err := store.ListEndpoints(ctx, nil, hookd.Page{Limit: hookd.MaxPageLimit})
	if err != nil {
		b.Fatal(err)
	}
	for cursor := ""; ; {
		more, next, err := store.ListEndpoints(ctx, nil, hookd.Page{Limit: hookd.MaxPageLimit, Cursor: cursor})
		if err != nil {
			b.Fatal(err)
		}
		if cursor != "" {
			eps = append(eps, more...)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for h := 24; h >= 1; h-- {
		at := now.Add(-time.Duration(h) * time.Hour).Add(time.Minute)
		events := make([]hookd.NewEvent, len(eps))
		for i, e := range eps {
			events[i] = hookd.NewEvent{Event: hookd.Event{ID: hookd.NewID(hookd.PrefixEvent, at), TenantID: e.TenantID, Type: "order.created",
				Payload: []byte(`{}`), CreatedAt: at}, OnlyEndpointID: e.ID}
		}
		if _, err := store.IngestEvents(ctx, events); err != nil {
			b.Fatal(err)
		}
		for {
			claims, err := store.ClaimDue(ctx, hookd.ClaimRequest{Owner: "seed", Now: at.Add(time.Second), Lease: time.Minute, Limit: 500})
			if err != nil {
				b.Fatal(err)
			}
			if len(claims) == 0 {
				break
			}
			cs := make([]hookd.Completion, len(claims))
			for i, c := range claims {
				cs[i] = hookd.Completion{Owner: "seed", Outcome: hookd.OutcomeSucceeded, Attempt: hookd.Attempt{DeliveryID: c.Delivery.ID, Number: 1,
					StartedAt: at.Add(time.Second), StatusCode: 200, Latency: time.Duration(20+i%80) * time.Millisecond}}
				if i%17 == 0 {
					cs[i].Outcome, cs[i].Attempt.StatusCode, cs[i].Attempt.Error = hookd.OutcomeDead, 500, "HTTP 500"
				}
			}
			if err := store.CompleteAttempts(ctx, cs, hookd.CircuitPolicy{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
