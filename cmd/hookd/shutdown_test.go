package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// warnLineRE matches one warning line of the text log.
var warnLineRE = regexp.MustCompile(`(?m)^.*level=WARN.*$`)

// TestSIGTERMGraceCutReleases sends SIGTERM while an attempt hangs longer
// than --shutdown-grace: the grace cuts it, hookd releases its delivery for
// redelivery and exits 0 with exactly one warning line that gives the
// count, and no stop step reports a timeout. After a restart the delivery
// is sent again and succeeds: nothing is lost.
func TestSIGTERMGraceCutReleases(t *testing.T) {
	backends(t, func(t *testing.T, db func(t *testing.T) string) {
		var n atomic.Int64
		hung, end := make(chan struct{}), make(chan struct{})
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Reading the body lets the server see the client hang up.
			_, _ = io.Copy(io.Discard, r.Body)
			if n.Add(1) == 1 {
				close(hung)
				select { // hangs until hookd gives up on it
				case <-r.Context().Done():
				case <-end:
				}
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(rc.Close)
		t.Cleanup(func() { close(end) })
		args := []string{"--db", db(t), "--allow-private-destinations", "--shutdown-grace", "2s",
			"--attempt-timeout", "60s", "--poll-interval", "50ms"}

		p1 := startProc(t, args...)
		api := p1.api()
		api.createEndpoint(map[string]any{"url": rc.URL})
		ev := api.sendEvent(map[string]any{"type": "shutdown.test", "payload": map[string]int{"n": 1}})
		select {
		case <-hung:
		case <-time.After(30 * time.Second):
			t.Fatal("the attempt did not reach the receiver")
		}
		p1.signal(syscall.SIGTERM)
		if code := p1.wait(30 * time.Second); code != 0 {
			t.Fatalf("exit code after a grace-cut SIGTERM: got %d, want 0\n%s", code, p1.stderr.String())
		}
		log := p1.stderr.String()
		warns := warnLineRE.FindAllString(log, -1)
		if len(warns) != 1 {
			t.Fatalf("warning lines at shutdown: got %d, want 1:\n%s", len(warns), strings.Join(warns, "\n"))
		}
		t.Logf("the warning: %s", warns[0])
		if !strings.Contains(warns[0], "released=1 ") && !strings.HasSuffix(warns[0], "released=1") {
			t.Errorf("the warning does not say one delivery was released: %s", warns[0])
		}
		for _, bad := range []string{"level=ERROR", "stop timeout", "scheduler stop", "deadline exceeded"} {
			if strings.Contains(log, bad) {
				t.Errorf("shutdown log contains %q:\n%s", bad, log)
			}
		}

		p2 := startProc(t, args...)
		api = p2.api()
		var dl deliveryJSON
		waitFor(t, 30*time.Second, "the released delivery delivered after the restart", func() bool {
			ds := api.deliveries("event_id=" + ev.ID)
			if len(ds) == 1 {
				dl = ds[0]
			}
			return len(ds) == 1 && ds[0].Status == "succeeded"
		})
		// The cut attempt was released, not recorded: it spent no attempt.
		if dl.Attempts != 1 {
			t.Errorf("attempts recorded: got %d, want 1 (the cut one is not recorded)", dl.Attempts)
		}
		if got := n.Load(); got != 2 {
			t.Errorf("requests at the receiver: got %d, want 2 (the cut one, the redelivery)", got)
		}
		p2.signal(syscall.SIGTERM)
		if code := p2.wait(30 * time.Second); code != 0 {
			t.Errorf("second exit code: got %d, want 0", code)
		}
	})
}
