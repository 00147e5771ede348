package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestAutoReplayOnRecovery: a delivery dies while the endpoint is down; the
// endpoint comes back and a later delivery succeeds; the dead letter is
// replayed by itself, and the operator gets signed delivery.dead and
// endpoint.recovered events.
func TestAutoReplayOnRecovery(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		opsSecret := hookd.NewSecret()
		opsRC := newReceiver(t, nil)
		srv := startServer(t, db(t), func(c *config) {
			// A run may last one interval (Scheduler.RunOnce): at 100 ms,
			// under load every Postgres run hit its own deadline and the
			// dead letter was never replayed.
			c.AutoReplayInterval = time.Second
			c.OpsURL, c.OpsSecret = opsRC.URL+"/ops", opsSecret
		})
		var healthy atomic.Bool
		rc := newReceiver(t, func(received, int) (int, http.Header, string) {
			if healthy.Load() {
				return http.StatusOK, nil, ""
			}
			return http.StatusInternalServerError, nil, "down"
		})
		ep := srv.createEndpoint(map[string]any{"url": rc.URL, "max_attempts": 2})
		first := srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{"n": 1}})
		waitFor(t, 10*time.Second, "first delivery dead", func() bool {
			return srv.deliveries("event_id=" + first.ID)[0].Status == "dead"
		})

		healthy.Store(true)
		srv.sendEvent(map[string]any{"type": "a.b", "payload": map[string]any{"n": 2}})
		waitFor(t, 30*time.Second, "dead letter replayed and delivered", func() bool {
			return srv.deliveries("event_id=" + first.ID)[0].Status == "succeeded"
		})

		types := map[string]bool{}
		waitFor(t, 30*time.Second, "operational events", func() bool {
			for _, r := range opsRC.got() {
				var env struct {
					Type string         `json:"type"`
					Data map[string]any `json:"data"`
				}
				if json.Unmarshal(r.Body, &env) != nil || !verifyStandard(opsSecret, r.Header, r.Body) {
					continue
				}
				if env.Data["endpoint_id"] == ep.ID {
					types[env.Type] = true
				}
			}
			return types["delivery.dead"] && types["endpoint.recovered"]
		})
		for _, r := range opsRC.got() {
			if !strings.HasPrefix(r.Header.Get("User-Agent"), "hookd/") || r.Header.Get("X-Signature") != plainHMAC(opsSecret, r.Body) {
				t.Errorf("operational event headers: %v", r.Header)
			}
		}
	})
}
