package main

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// TestAlertFiresAndResolvesEndToEnd: a receiver that fails every other
// request drives its success rate to 50%: alert.firing arrives, signed, at
// the ops URL and GET /v1/stats lists the alert; the receiver recovers and
// alert.resolved arrives. --alert-threshold 0.6 keeps the walk short (the
// default 0.99 needs 100 successes per failure to resolve; the threshold
// logic itself is tested in package scheduler).
func TestAlertFiresAndResolvesEndToEnd(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		opsSecret := hookd.NewSecret()
		opsRC := newReceiver(t, nil)
		srv := startServer(t, db(t), func(c *config) {
			c.OpsURL, c.OpsSecret = opsRC.URL+"/ops", opsSecret
			c.AlertInterval, c.AlertWindow, c.AlertThreshold, c.AlertMinAttempts = 100*time.Millisecond, time.Minute, 0.6, 20
			c.MaxAttempts = 10
		})
		var healthy atomic.Bool
		rc := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
			if healthy.Load() || n%2 == 0 {
				return 200, nil, ""
			}
			return 500, nil, "flaky"
		})
		ep := srv.createEndpoint(map[string]any{"url": rc.URL, "tenant_id": "acme", "max_in_flight": 1})
		for i := 0; i < 15; i++ {
			srv.sendEvent(map[string]any{"type": "a.b", "payload": i, "tenant_id": "acme"})
		}
		var firing opsEnvelope
		waitFor(t, 30*time.Second, "alert.firing at the ops URL", func() bool {
			for _, env := range opsEvents(t, opsRC, opsSecret, nil) {
				if env.Type == "alert.firing" && env.Data["scope"] == "endpoint" {
					firing = env
					return true
				}
			}
			return false
		})
		d := firing.Data
		if d["endpoint_id"] != ep.ID || d["tenant_id"] != "acme" || d["window"] != "1m" || d["threshold"] != 0.6 ||
			d["attempts"].(float64) < 20 || d["success_rate"].(float64) >= 0.6 || d["since"] == "" {
			t.Errorf("alert.firing data: got %v", d)
		}
		var stats struct {
			Alerts []struct {
				Scope       string  `json:"scope"`
				EndpointID  *string `json:"endpoint_id"`
				SuccessRate float64 `json:"success_rate"`
				Since       string  `json:"since"`
			} `json:"alerts"`
		}
		srv.must(200, "GET", "/v1/stats", nil, &stats)
		found := false
		for _, a := range stats.Alerts {
			if a.Scope == "endpoint" && a.EndpointID != nil && *a.EndpointID == ep.ID && a.Since != "" && a.SuccessRate < 0.6 {
				found = true
			}
		}
		if !found {
			t.Errorf("GET /v1/stats alerts: got %+v, want the endpoint's firing alert", stats.Alerts)
		}

		healthy.Store(true)
		for i := 0; i < 40; i++ {
			srv.sendEvent(map[string]any{"type": "a.b", "payload": i, "tenant_id": "acme"})
		}
		waitFor(t, 30*time.Second, "alert.resolved at the ops URL", func() bool {
			for _, env := range opsEvents(t, opsRC, opsSecret, nil) {
				if env.Type == "alert.resolved" && env.Data["scope"] == "endpoint" && env.Data["since"] == d["since"] {
					return true
				}
			}
			return false
		})
		// One firing per episode.
		n := 0
		for _, env := range opsEvents(t, opsRC, opsSecret, nil) {
			if env.Type == "alert.firing" && env.Data["scope"] == "endpoint" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("got %d endpoint alert.firing events, want 1", n)
		}
	})
}
