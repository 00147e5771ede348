//go:build bench

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/testenv"
)

// TestMultiNodeThroughput measures events delivered per second by 1 and by
// 3 hookd processes on one Postgres schema, with batch ingest spread over
// the nodes and a loopback receiver that answers 200 at once. Run it with
//
//	HOOKD_TEST_POSTGRES_URL=… go test -tags bench -run TestMultiNodeThroughput -v ./cmd/hookd
//
// HOOKD_BENCH_EVENTS sets the number of events (default 20,000). The
// figures in docs/postgres.md come from this test.
func TestMultiNodeThroughput(t *testing.T) {
	total := 20_000
	if v := os.Getenv("HOOKD_BENCH_EVENTS"); v != "" {
		var err error
		if total, err = strconv.Atoi(v); err != nil {
			t.Fatalf("HOOKD_BENCH_EVENTS: %v", err)
		}
	}
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			db := testenv.PostgresSchema(t)
			var received atomic.Int64
			rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				received.Add(1)
			}))
			t.Cleanup(rc.Close)
			nodes := make([]*node, n)
			for i := range nodes {
				nodes[i] = &node{p: startProc(t, "--db", db, "--allow-private-destinations", "--poll-interval", "100ms")}
				nodes[i].alive.Store(true)
			}
			nodes[0].p.api().createEndpoint(map[string]any{"url": rc.URL, "max_in_flight": 64})

			var count atomic.Int64
			start := time.Now()
			ingestDone := make(chan time.Duration, 1)
			go func() {
				produceAcross(context.Background(), nodes, 4, total, 100, &count)
				ingestDone <- time.Since(start)
			}()
			waitFor(t, 10*time.Minute, "every event delivered", func() bool { return received.Load() >= int64(total) })
			elapsed := time.Since(start)
			ingest := <-ingestDone
			t.Logf("%d node(s): %d events; ingest %s (%.0f events/s); all delivered in %s: %.0f events/s delivered",
				n, count.Load(), ingest.Round(time.Millisecond), float64(count.Load())/ingest.Seconds(),
				elapsed.Round(time.Millisecond), float64(received.Load())/elapsed.Seconds())
		})
	}
}
