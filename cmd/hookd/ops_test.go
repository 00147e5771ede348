package main

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// opsEnvelope is an operational event as the ops receiver gets it.
type opsEnvelope struct {
	ID   string         `json:"id"`
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// opsEvents returns the operational events rc accepted (2xx) whose
// signature verifies with secret, by webhook-id (so redeliveries count once).
func opsEvents(t *testing.T, rc *receiver, secret string, accepted func(n int) bool) map[string]opsEnvelope {
	t.Helper()
	out := map[string]opsEnvelope{}
	for i, r := range rc.got() {
		if accepted != nil && !accepted(i+1) {
			continue
		}
		var env opsEnvelope
		if err := json.Unmarshal(r.Body, &env); err != nil {
			t.Errorf("operational event body %q: %v", r.Body, err)
			continue
		}
		if !verifyStandard(secret, r.Header, r.Body) || r.Header.Get("X-Signature") != plainHMAC(secret, r.Body) {
			t.Errorf("operational event %s: signature does not verify (headers %v)", env.ID, r.Header)
			continue
		}
		if r.Header.Get("webhook-id") != env.ID || r.Header.Get("X-Idempotency-Key") != env.ID {
			t.Errorf("operational event %s: webhook-id %q, X-Idempotency-Key %q", env.ID, r.Header.Get("webhook-id"), r.Header.Get("X-Idempotency-Key"))
		}
		out[env.ID] = env
	}
	return out
}

// TestOpsEventsSurviveOutageAndRestart: the ops receiver is down while
// deliveries die and while hookd restarts; every delivery.dead arrives
// later, signed, exactly one distinct event per dead delivery, and the
// failed tries are in the attempt log of the system tenant's deliveries.
// The ops URL is on loopback while private destinations are refused: the
// operator's --ops-url is not subject to the SSRF guard.
func TestOpsEventsSurviveOutageAndRestart(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		dsn := db(t)
		opsSecret := hookd.NewSecret()
		var up atomic.Bool
		var failedTries atomic.Int64
		var okFrom atomic.Int64 // first request number answered 2xx
		opsRC := newReceiver(t, func(_ received, n int) (int, http.Header, string) {
			if up.Load() {
				okFrom.CompareAndSwap(0, int64(n))
				return http.StatusOK, nil, ""
			}
			failedTries.Add(1)
			return http.StatusServiceUnavailable, nil, "ops receiver down"
		})
		edit := func(c *config) {
			c.OpsURL, c.OpsSecret = opsRC.URL+"/ops", opsSecret
			c.AllowPrivateDestinations, c.AllowCIDR = false, []string{"127.0.0.2/32"}
		}
		srv := startServer(t, dsn, edit)

		// The system tenant is reserved, and its endpoint is the flags'.
		var e errorJSON
		if code := srv.do("POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.2:1/", "tenant_id": hookd.SystemTenant}, &e); code != 422 {
			t.Errorf("create endpoint in the system tenant: got %d %+v, want 422", code, e)
		}
		if code := srv.do("POST", "/v1/events", map[string]any{"type": "a", "payload": 1, "tenant_id": hookd.SystemTenant}, &e); code != 422 {
			t.Errorf("ingest into the system tenant: got %d %+v, want 422", code, e)
		}
		for _, m := range []string{"PATCH", "DELETE"} {
			if code := srv.do(m, "/v1/endpoints/"+hookd.OpsEndpointID, map[string]any{"url": "http://127.0.0.2:2/"}, &e); code != 409 {
				t.Errorf("%s the ops endpoint: got %d %+v, want 409", m, code, e)
			}
		}
		var opsEP endpointJSON
		srv.must(200, "GET", "/v1/endpoints/"+hookd.OpsEndpointID, nil, &opsEP)
		if opsEP.TenantID != hookd.SystemTenant || opsEP.URL != opsRC.URL+"/ops" || opsEP.Disabled {
			t.Errorf("ops endpoint: got %+v", opsEP)
		}

		// Deliveries die at once: 127.0.0.2:1 refuses connections.
		const endpoints, events = 3, 4
		for i := 0; i < endpoints; i++ {
			srv.createEndpoint(map[string]any{"url": "http://127.0.0.2:1/hook", "max_attempts": 1, "tenant_id": "acme"})
		}
		for i := 0; i < events; i++ {
			srv.sendEvent(map[string]any{"type": "order.created", "payload": map[string]any{"n": i}, "tenant_id": "acme"})
		}
		dead := map[string]bool{}
		waitFor(t, 20*time.Second, "every delivery dead", func() bool {
			for _, d := range srv.deliveries("status=dead&limit=500") {
				if d.EndpointID != hookd.OpsEndpointID {
					dead[d.ID] = true
				}
			}
			return len(dead) == endpoints*events
		})
		waitFor(t, 20*time.Second, "the ops receiver refusing tries", func() bool { return failedTries.Load() >= endpoints*events })

		// Restart while the ops receiver is still down.
		srv.stop()
		srv = startServer(t, dsn, edit)
		pending := srv.deliveries("endpoint_id=" + hookd.OpsEndpointID + "&limit=500")
		if len(pending) != endpoints*events {
			t.Fatalf("ops deliveries after restart: got %d, want %d", len(pending), endpoints*events)
		}
		tried := 0
		for _, d := range pending {
			if d.Status == "pending" && d.Attempts > 0 {
				if as := srv.attempts(d.ID); len(as) > 0 && as[0].StatusCode == 503 {
					tried++
				}
			}
		}
		if tried == 0 {
			t.Errorf("no ops delivery shows its failed tries in the attempt log: %+v", pending)
		}

		up.Store(true)
		var got map[string]opsEnvelope
		waitFor(t, 30*time.Second, "every delivery.dead at the ops receiver", func() bool {
			from := okFrom.Load()
			got = opsEvents(t, opsRC, opsSecret, func(n int) bool { return from > 0 && int64(n) >= from })
			seen := map[string]bool{}
			for _, env := range got {
				if env.Type == "delivery.dead" && dead[env.Data["delivery_id"].(string)] {
					seen[env.Data["delivery_id"].(string)] = true
				}
			}
			return len(seen) == len(dead)
		})
		perDelivery := map[string]int{}
		for _, env := range got {
			if env.Type != "delivery.dead" {
				continue
			}
			perDelivery[env.Data["delivery_id"].(string)]++
			if env.Data["tenant_id"] != "acme" || env.Data["event_type"] != "order.created" || env.Data["attempts"] != 1.0 {
				t.Errorf("delivery.dead data: got %v", env.Data)
			}
		}
		for id, n := range perDelivery {
			if n != 1 {
				t.Errorf("delivery %s: %d distinct delivery.dead events, want 1", id, n)
			}
		}
		waitFor(t, 10*time.Second, "ops deliveries succeeded", func() bool {
			for _, d := range srv.deliveries("endpoint_id=" + hookd.OpsEndpointID + "&limit=500") {
				if d.Status != "succeeded" {
					return false
				}
			}
			return true
		})
	})
}
