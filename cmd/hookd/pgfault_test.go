package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// getStatus answers the status of GET url, 0 on a transport error.
func getStatus(client *http.Client, url string) int {
	resp, err := client.Get(url)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestPostgresCut runs hookd on Postgres through a TCP proxy and cuts it
// while a backlog is being delivered: /readyz and ingest answer 503 (never
// 202); after the restore hookd is ready again by itself and delivers every
// accepted event. It runs with the default --lease (attempt timeout + 30 s):
// a claim whose commit the cut made ambiguous is released by the dispatcher
// (Store.ReleaseLeasesExpiringAt) rather than waited out, which before that change
// made some runs take 14–32 s to recover.
func TestPostgresCut(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	t.Parallel()
	u, err := url.Parse(testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	px := testenv.StartProxy(t, u.Host)
	u.Host = px.Addr()
	rc := newIDReceiver(t, 5*time.Millisecond)
	p := startProc(t, "--db", u.String(), "--allow-private-destinations", "--retry-base", "50ms",
		"--retry-max-delay", "500ms", "--attempt-timeout", "2s", "--poll-interval", "100ms")
	p.api().createEndpoint(map[string]any{"url": rc.URL, "max_in_flight": 4})
	client := &http.Client{Timeout: 10 * time.Second}

	accepted := produce(context.Background(), p.URL, 4, 1000, 50)
	if len(accepted) != 1000 {
		t.Fatalf("accepted %d of 1000 events before the cut", len(accepted))
	}
	px.Down()
	cut := time.Now()
	waitFor(t, 10*time.Second, "/readyz 503", func() bool { return getStatus(client, p.URL+"/readyz") == http.StatusServiceUnavailable })
	pending, _ := rc.missing(accepted)
	codes := map[int]int{}
	for i := range 10 {
		path, body := "/v1/events", []byte(`{"type":"cut.test","payload":{}}`)
		if i%2 == 1 {
			path, body = "/v1/events/batch", []byte(`{"events":[{"type":"cut.test","payload":{}},{"type":"cut.test","payload":{}}]}`)
		}
		code, raw, err := post(context.Background(), client, p.URL+path, body)
		if err != nil {
			t.Fatalf("POST %s while cut: %v", path, err)
		}
		codes[code]++
		if code != http.StatusServiceUnavailable {
			t.Errorf("POST %s while cut: got %d (%s), want 503", path, code, raw)
		}
	}
	t.Logf("cut with %d of %d events still to deliver; ingest answers while cut: %v", len(pending), len(accepted), codes)
	if len(pending) == 0 {
		t.Errorf("everything was delivered before the cut; the test did not exercise recovery")
	}

	px.Up()
	restored := time.Now()
	waitFor(t, 30*time.Second, "/readyz 200 after the restore", func() bool { return getStatus(client, p.URL+"/readyz") == http.StatusOK })
	ready := time.Since(restored)
	accepted = append(accepted, produce(context.Background(), p.URL, 4, 500, 50)...)
	waitDrained(t, 45*time.Second, "every accepted event delivered", func() int {
		m, _ := rc.missing(accepted)
		return len(m)
	})
	_, dups := rc.missing(accepted)
	t.Logf("down %s; ready %s after the restore; all %d accepted events delivered %s after the restore, %d duplicates",
		restored.Sub(cut).Round(time.Millisecond), ready.Round(time.Millisecond), len(accepted), time.Since(restored).Round(time.Millisecond), dups)
}

// TestPostgresTerminateBackends kills hookd's database sessions with
// pg_terminate_backend (matched by application_name) three times while
// events are ingested and delivered: every event answered 202 arrives.
func TestPostgresTerminateBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	t.Parallel()
	u, err := url.Parse(testenv.PostgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	app := "hookd_fault_" + testenv.RandomHex(4)
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	rc := newIDReceiver(t, 2*time.Millisecond)
	p := startProc(t, "--db", u.String(), "--allow-private-destinations", "--retry-base", "50ms",
		"--retry-max-delay", "500ms", "--attempt-timeout", "2s", "--poll-interval", "100ms")
	p.api().createEndpoint(map[string]any{"url": rc.URL, "max_in_flight": 8})

	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	var count atomic.Int64
	var accepted []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		accepted = produceCounting(ctx, p.URL, 3, 3000, 10, &count)
	}()
	killed := 0
	for _, at := range []int64{500, 1200, 2000} {
		waitFor(t, 30*time.Second, "ingest progress", func() bool { return count.Load() >= at })
		var n int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()`, app).Scan(&n)
		if err != nil {
			t.Fatalf("terminate: %v", err)
		}
		killed += n
	}
	<-done
	if killed == 0 {
		t.Fatalf("no hookd session was terminated; application_name did not match")
	}
	start := time.Now()
	waitDrained(t, 45*time.Second, "every accepted event delivered", func() int {
		m, _ := rc.missing(accepted)
		return len(m)
	})
	_, dups := rc.missing(accepted)
	t.Logf("terminated %d sessions in 3 rounds; %d of 3000 events accepted, all delivered (%s after ingest ended), %d duplicates",
		killed, len(accepted), time.Since(start).Round(time.Millisecond), dups)
}
