package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/ingest"
)

// TestConcurrentIngest posts events from many goroutines through the
// group committer: every one is answered 202 and stored exactly once.
func TestConcurrentIngest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.endpoint(`{"url":"https://example.com/a"}`)
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := b.do("POST", "/v1/events", fmt.Sprintf(`{"type":"c","payload":{"i":%d}}`, i))
			if w.Code != http.StatusAccepted {
				t.Errorf("got %d: %s", w.Code, w.Body)
			}
		})
	}
	wg.Wait()
	if got := len(b.events()); got != n {
		t.Errorf("got %d events, want %d", got, n)
	}
	if got := len(b.deliveries(hookd.DeliveryFilter{})); got != n {
		t.Errorf("got %d deliveries, want %d", got, n)
	}
}

// FuzzCreateEvent checks that no body makes POST /v1/events fail with 500
// or store an event while answering an error.
func FuzzCreateEvent(f *testing.F) {
	for _, s := range []string{`{"type":"a","payload":{}}`, `{"type":"a","payload":null}`, `{"type":"a b"}`,
		`{"payload":[1,{"x":"\u0000"}]}`, `{`, `[]`, `{"type":"a","payload":1} 2`, `{"type":"\ud800","payload":"x"}`} {
		f.Add(s)
	}
	fb := setup(f)
	f.Fuzz(func(t *testing.T, body string) {
		fb.t = t // inputs run one at a time within a process
		before := fb.newestEvent()
		req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testKey)
		w := httptest.NewRecorder()
		fb.handler.ServeHTTP(w, req)
		after := fb.newestEvent()
		switch {
		case w.Code == http.StatusAccepted:
			if after == before || !strings.Contains(w.Body.String(), after) {
				t.Errorf("202 but the newest event is %q (was %q): %s", after, before, w.Body)
			}
		case w.Code >= 500:
			t.Errorf("got %d for %q: %s", w.Code, body, w.Body)
		case w.Code >= 400 && after != before:
			t.Errorf("got %d but event %s was stored", w.Code, after)
		}
		if !strings.HasPrefix(w.Body.String(), "{") {
			t.Errorf("answer is not a JSON object: %s", w.Body)
		}
	})
}

// BenchmarkCreateEvent measures POST /v1/events end to end on SQLite
// (synchronous=FULL) through the group committer, from parallel clients.
func BenchmarkCreateEvent(b *testing.B) {
	bb := setup(b)
	// A second committer over a store that counts commits.
	counting := &countingStore{Store: bb.store}
	committer := ingest.New(counting, ingest.Config{})
	if err := committer.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer committer.Stop(context.Background())
	bb.handler = New(Config{Store: bb.store, Ingest: committer, APIKeyHash: sha256.Sum256([]byte(testKey)), Logger: quiet}).Handler()
	bb.endpoint(`{"url":"https://example.com/a"}`)
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w := bb.do("POST", "/v1/events", fmt.Sprintf(`{"type":"bench","payload":{"i":%d}}`, n.Add(1)))
			if w.Code != http.StatusAccepted {
				b.Errorf("got %d: %s", w.Code, w.Body)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/float64(counting.commits.Load()), "events/commit")
}

// countingStore counts IngestEvents calls.
type countingStore struct {
	Store
	commits atomic.Int64
}

// IngestAndLease is IngestEvents here: this committer has no dispatcher.
func (s *countingStore) IngestAndLease(ctx context.Context, events []hookd.NewEvent, _ hookd.ClaimRequest) ([]hookd.IngestResult, []hookd.Claim, error) {
	res, err := s.IngestEvents(ctx, events)
	return res, nil, err
}

func (s *countingStore) IngestEvents(ctx context.Context, events []hookd.NewEvent) ([]hookd.IngestResult, error) {
	s.commits.Add(1)
	return s.Store.IngestEvents(ctx, events)
}

// newestEvent returns the id of the newest stored event, "" for none.
func (b *bundle) newestEvent() string {
	b.t.Helper()
	evs, _, err := b.store.ListEvents(context.Background(), hookd.EventFilter{Page: hookd.Page{Limit: 1}})
	if err != nil {
		b.t.Fatal(err)
	}
	if len(evs) == 0 {
		return ""
	}
	return evs[0].ID
}
