package main

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestStatsAndCircuitEndToEnd runs the real binary on both stores: a
// receiver that goes down opens the endpoint's circuit (the endpoint
// resource shows it and the log says it once), it recovers and the circuit
// closes, and then the stats (API and CLI) match what the receiver
// actually answered, attempt for attempt.
func TestStatsAndCircuitEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		var down atomic.Bool
		var oks, fails atomic.Int64
		rc := newReceiver(t, func(r received, n int) (int, http.Header, string) {
			if down.Load() {
				fails.Add(1)
				return http.StatusServiceUnavailable, nil, "down"
			}
			oks.Add(1)
			return http.StatusOK, nil, "ok"
		})
		p := startProc(t, "--db", db(t), "--allow-private-destinations", "--retry-base", "20ms",
			"--retry-max-delay", "200ms", "--max-attempts", "100", "--circuit-threshold", "3",
			"--circuit-cooldown", "500ms", "--poll-interval", "20ms")
		srv := p.api()
		ep := srv.createEndpoint(map[string]any{"url": rc.URL + "/hook"})

		for range 5 {
			srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{}})
		}
		waitFor(t, 20*time.Second, "5 deliveries succeeded", func() bool {
			return len(srv.deliveries("status=succeeded")) == 5
		})

		down.Store(true)
		srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{}})
		var got struct {
			Circuit struct {
				State               string  `json:"state"`
				ConsecutiveFailures int     `json:"consecutive_failures"`
				OpenUntil           *string `json:"open_until"`
			} `json:"circuit"`
		}
		waitFor(t, 20*time.Second, "the circuit open on the endpoint resource", func() bool {
			srv.must(http.StatusOK, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
			return got.Circuit.State == "open" && got.Circuit.ConsecutiveFailures >= 3 && got.Circuit.OpenUntil != nil
		})
		waitFor(t, 10*time.Second, "the opening logged", func() bool {
			return strings.Contains(p.stderr.String(), `msg="circuit opened" endpoint=`+ep.ID)
		})
		var st map[string]any
		srv.must(http.StatusOK, "GET", "/v1/endpoints/"+ep.ID+"/stats", nil, &st)
		lastErr, _ := st["last_error"].(string)
		if st["circuit"] != "open" && st["circuit"] != "half_open" || !strings.HasPrefix(lastErr, "HTTP 503") || st["pending"] != 1.0 {
			t.Errorf("stats while down: circuit %v, last error %v, pending %v; want open, HTTP 503, 1",
				st["circuit"], st["last_error"], st["pending"])
		}

		down.Store(false)
		waitFor(t, 30*time.Second, "the circuit closed and everything delivered", func() bool {
			srv.must(http.StatusOK, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
			return got.Circuit.State == "closed" && len(srv.deliveries("status=succeeded")) == 6
		})
		waitFor(t, 10*time.Second, "the closing logged", func() bool {
			return strings.Contains(p.stderr.String(), `msg="circuit closed" endpoint=`+ep.ID)
		})
		if n := strings.Count(p.stderr.String(), `msg="circuit opened" endpoint=`+ep.ID); n != 1 {
			t.Errorf("circuit opened logged %d times, want once", n)
		}

		// Every answer the receiver gave is one attempt in the stats.
		ok, failed := oks.Load(), fails.Load()
		waitFor(t, 10*time.Second, "the stats to count every attempt", func() bool {
			srv.must(http.StatusOK, "GET", "/v1/endpoints/"+ep.ID+"/stats", nil, &st)
			return st["attempts"] == float64(ok+failed)
		})
		codes := st["status_codes"].(map[string]any)
		if st["succeeded"] != float64(ok) || st["failed"] != float64(failed) || codes["200"] != float64(ok) ||
			codes["503"] != float64(failed) || len(codes) != 2 {
			t.Errorf("stats: got succeeded %v failed %v codes %v; the receiver answered 200 %d times and 503 %d times",
				st["succeeded"], st["failed"], codes, ok, failed)
		}
		if st["circuit"] != "closed" || st["pending"] != 0.0 || st["dead"] != 0.0 {
			t.Errorf("stats after recovery: circuit %v pending %v dead %v", st["circuit"], st["pending"], st["dead"])
		}

		// The CLI shows the same figures.
		cli := &cliRunner{t: t, url: p.URL, key: testAPIKey}
		var viaCLI map[string]any
		cli.json(&viaCLI, "endpoint", "stats", ep.ID, "--window", "30m")
		if viaCLI["attempts"] != st["attempts"] || viaCLI["window"] != "30m" {
			t.Errorf("hookd endpoint stats -o json: got attempts %v window %v, want %v, 30m", viaCLI["attempts"], viaCLI["window"], st["attempts"])
		}
		out := cli.ok("endpoint", "stats", ep.ID)
		if !strings.Contains(out, "circuit:") || !strings.Contains(out, "START") {
			t.Errorf("hookd endpoint stats: %q lacks the circuit or the series table", out)
		}
		var all map[string]any
		cli.json(&all, "stats")
		if all["attempts"] != st["attempts"] || all["endpoints"] != 1.0 {
			t.Errorf("hookd stats -o json: got attempts %v endpoints %v, want %v, 1", all["attempts"], all["endpoints"], st["attempts"])
		}
		_, errs, code := cli.run("stats", "--window", "800h")
		if code == 0 || !strings.Contains(errs, "window: must be at most 720h") {
			t.Errorf("hookd stats --window 800h: exit %d, stderr %q", code, errs)
		}
	})
}
