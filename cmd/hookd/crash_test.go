package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// idReceiver counts arrivals per webhook-id.
type idReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	seen  map[string]int
	delay time.Duration
}

func newIDReceiver(t *testing.T, delay time.Duration) *idReceiver {
	rc := &idReceiver{seen: map[string]int{}, delay: delay}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc.delay > 0 {
			time.Sleep(rc.delay)
		}
		rc.mu.Lock()
		rc.seen[r.Header.Get("webhook-id")]++
		rc.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// missing returns the accepted ids that never arrived and the duplicate count.
func (rc *idReceiver) missing(accepted []string) (missing []string, dups int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, id := range accepted {
		if rc.seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	for _, n := range rc.seen {
		dups += max(0, n-1)
	}
	return missing, dups
}

// producer ingests events until stop is closed or total is reached and
// returns the ids the server accepted (202 or 200).
func produce(ctx context.Context, url string, workers, total int, batch int) []string {
	return produceCounting(ctx, url, workers, total, batch, new(atomic.Int64))
}

// produceCounting is produce that also adds every accepted event to count.
func produceCounting(ctx context.Context, url string, workers, total int, batch int, count *atomic.Int64) []string {
	var (
		mu       sync.Mutex
		accepted []string
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				n := int(next.Add(int64(batch)))
				if n > total {
					return
				}
				var body []byte
				if batch == 1 {
					body = []byte(fmt.Sprintf(`{"type":"crash.test","payload":{"n":%d}}`, n))
				} else {
					evs := make([]map[string]any, batch)
					for i := range evs {
						evs[i] = map[string]any{"type": "crash.test", "payload": map[string]int{"n": n - i}}
					}
					body, _ = json.Marshal(map[string]any{"events": evs})
				}
				path := "/v1/events"
				if batch > 1 {
					path += "/batch"
				}
				code, raw, err := post(ctx, client, url+path, body)
				if err != nil || code != http.StatusAccepted {
					continue // not accepted: the server may be down on purpose
				}
				ids := acceptedIDs(raw, batch > 1)
				mu.Lock()
				accepted = append(accepted, ids...)
				mu.Unlock()
				count.Add(int64(len(ids)))
			}
		}()
	}
	wg.Wait()
	return accepted
}

// acceptedIDs returns the event ids of a 202 answer of POST /v1/events
// (one event) or /v1/events/batch ({"data":[…]}).
func acceptedIDs(raw []byte, batch bool) []string {
	var ids []string
	if !batch {
		var ev eventJSON
		if json.Unmarshal(raw, &ev) == nil {
			ids = append(ids, ev.ID)
		}
		return ids
	}
	var res struct{ Data []eventJSON }
	if json.Unmarshal(raw, &res) == nil {
		for _, ev := range res.Data {
			ids = append(ids, ev.ID)
		}
	}
	return ids
}

// TestCrashLosesNothing ingests a few thousand events, kills hookd with
// SIGKILL while deliveries are in flight and ingest is still running,
// restarts it on the same database, ingests more, and checks that every
// accepted event arrives at least once.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "hookd.db")
	// A receiver slower than ingest, so a backlog is pending at the kill.
	rc := newIDReceiver(t, 5*time.Millisecond)
	args := []string{"--db", db, "--allow-private-destinations", "--retry-base", "50ms", "--retry-max-delay", "500ms", "--attempt-timeout", "2s", "--poll-interval", "50ms"}

	p1 := startProc(t, args...)
	p1.api().createEndpoint(map[string]any{"url": rc.URL, "max_in_flight": 4})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		accepted []string
		count    atomic.Int64
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		accepted = append(accepted, produceCounting(ctx, p1.URL, 4, 1500, 1, &count)...)
		accepted = append(accepted, produceCounting(ctx, p1.URL, 4, 20000, 50, &count)...)
	}()
	waitFor(t, 60*time.Second, "2,500 accepted events", func() bool { return count.Load() >= 2500 })
	p1.signal(syscall.SIGKILL)
	p1.wait(10 * time.Second)
	cancel()
	<-done
	before, _ := rc.missing(accepted)
	t.Logf("killed with %d events accepted, %d of them not yet delivered", len(accepted), len(before))
	if len(before) == 0 {
		t.Fatalf("everything was delivered before the kill; the test did not exercise recovery")
	}

	start := time.Now()
	p2 := startProc(t, args...)
	accepted = append(accepted, produce(context.Background(), p2.URL, 4, 500, 1)...)
	waitFor(t, 60*time.Second, "every accepted event delivered after restart", func() bool {
		m, _ := rc.missing(accepted)
		return len(m) == 0
	})
	_, dups := rc.missing(accepted)
	t.Logf("all %d accepted events delivered %s after the restart; %d duplicates (attempts in flight at the kill)", len(accepted), time.Since(start).Round(time.Millisecond), dups)

	p2.signal(syscall.SIGTERM)
	if code := p2.wait(30 * time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM: got %d, want 0", code)
	}
}

// TestSIGTERMDrains sends SIGTERM while slow deliveries are in flight: hookd
// exits 0, and after a restart every accepted event has arrived.
func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "hookd.db")
	rc := newIDReceiver(t, 100*time.Millisecond)
	args := []string{"--db", db, "--allow-private-destinations", "--retry-base", "50ms", "--retry-max-delay", "500ms", "--shutdown-grace", "10s", "--poll-interval", "50ms"}
	p1 := startProc(t, args...)
	p1.api().createEndpoint(map[string]any{"url": rc.URL, "max_in_flight": 4})
	accepted := produce(context.Background(), p1.URL, 4, 200, 1)
	if len(accepted) != 200 {
		t.Fatalf("accepted %d of 200 events", len(accepted))
	}
	waitFor(t, 10*time.Second, "deliveries in flight", func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.seen) >= 4
	})
	p1.signal(syscall.SIGTERM)
	if code := p1.wait(20 * time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM: got %d, want 0\n%s", code, p1.stderr.String())
	}
	m, _ := rc.missing(accepted)
	t.Logf("after SIGTERM: %d of %d events still to deliver", len(m), len(accepted))
	if len(m) == 0 {
		t.Errorf("everything was delivered before shutdown; the test did not exercise draining")
	}

	p2 := startProc(t, args...)
	waitFor(t, 60*time.Second, "every accepted event delivered after restart", func() bool {
		m, _ := rc.missing(accepted)
		return len(m) == 0
	})
	_, dups := rc.missing(accepted)
	// A drained shutdown records every attempt it made: nothing is sent twice.
	if dups != 0 {
		t.Errorf("duplicates after a graceful shutdown: got %d, want 0", dups)
	}
	p2.signal(syscall.SIGTERM)
	if code := p2.wait(20 * time.Second); code != 0 {
		t.Errorf("second exit code: got %d, want 0", code)
	}
}
