package main

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookd/hookd"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches /metrics and parses it.
func scrape(t *testing.T, srv *testServer) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the series of family name whose labels
// include want, and whether it exists.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsGauges scrapes /metrics of a running server: labelled
// counters start at zero, the pending/dead gauges and the per-endpoint
// series follow the deliveries, and endpoints past
// --metrics-endpoint-labels share endpoint="other".
func TestMetricsGauges(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), func(c *config) {
			c.MetricsEndpointLabels = 2
			c.MetricsRefresh = 50 * time.Millisecond
			c.MaxAttempts = 1
		})
		fams := scrape(t, srv)
		for _, z := range []struct {
			name   string
			labels map[string]string
		}{
			{"hookd_attempts_total", map[string]string{"outcome": "dead", "status_class": "5xx"}},
			{"hookd_attempts_total", map[string]string{"outcome": "succeeded", "status_class": "2xx"}},
			{"hookd_operational_events_total", map[string]string{"type": "alert.firing"}},
			{"hookd_events_ingested_total", map[string]string{"result": "duplicate"}},
			{"hookd_endpoint_attempts_total", map[string]string{"endpoint": "other", "outcome": "succeeded"}},
			{"hookd_alerts_firing", map[string]string{"scope": "overall"}},
			{"hookd_deliveries_pending", nil},
			{"hookd_deliveries_dead", nil},
			{"hookd_circuits_open", nil},
		} {
			if v, ok := value(fams, z.name, z.labels); !ok || v != 0 {
				t.Errorf("%s%v at start: got %v (present %v), want 0", z.name, z.labels, v, ok)
			}
		}

		// Three endpoints (two get labels: the bound is 2), one held down.
		var hold = make(chan struct{})
		ok := newReceiver(t, nil)
		slow := newReceiver(t, func(received, int) (int, http.Header, string) { <-hold; return 200, nil, "" })
		t.Cleanup(func() { close(hold) })
		var badHealed atomic.Bool
		bad := newReceiver(t, func(received, int) (int, http.Header, string) {
			if badHealed.Load() {
				return 200, nil, ""
			}
			return 500, nil, ""
		})
		epOK := srv.createEndpoint(map[string]any{"url": ok.URL, "tenant_id": "m", "event_types": []string{"ok"}})
		epBad := srv.createEndpoint(map[string]any{"url": bad.URL, "tenant_id": "m", "event_types": []string{"bad"}})
		epSlow := srv.createEndpoint(map[string]any{"url": slow.URL, "tenant_id": "m", "event_types": []string{"slow"}, "max_in_flight": 1})
		// Let a refresh assign the labels before traffic.
		waitFor(t, 5*time.Second, "endpoint labels", func() bool {
			_, a := value(scrape(t, srv), "hookd_endpoint_attempts_total", map[string]string{"endpoint": epOK.ID, "outcome": "succeeded"})
			_, b := value(scrape(t, srv), "hookd_endpoint_attempts_total", map[string]string{"endpoint": epBad.ID, "outcome": "dead"})
			return a && b
		})
		if _, ok := value(scrape(t, srv), "hookd_endpoint_attempts_total", map[string]string{"endpoint": epSlow.ID}); ok {
			t.Errorf("a third endpoint got its own label with --metrics-endpoint-labels 2")
		}
		for i := 0; i < 3; i++ {
			srv.sendEvent(map[string]any{"type": "ok", "payload": i, "tenant_id": "m"})
			srv.sendEvent(map[string]any{"type": "bad", "payload": i, "tenant_id": "m"})
		}
		for i := 0; i < 4; i++ {
			srv.sendEvent(map[string]any{"type": "slow", "payload": i, "tenant_id": "m"})
		}
		waitFor(t, 10*time.Second, "gauges and counters to move", func() bool {
			f := scrape(t, srv)
			okN, _ := value(f, "hookd_endpoint_attempts_total", map[string]string{"endpoint": epOK.ID, "outcome": "succeeded"})
			deadN, _ := value(f, "hookd_endpoint_attempts_total", map[string]string{"endpoint": epBad.ID, "outcome": "dead"})
			dead, _ := value(f, "hookd_deliveries_dead", nil)
			epDead, _ := value(f, "hookd_endpoint_deliveries_dead", map[string]string{"endpoint": epBad.ID})
			pending, _ := value(f, "hookd_deliveries_pending", nil)
			other, _ := value(f, "hookd_endpoint_deliveries_pending", map[string]string{"endpoint": "other"})
			return okN == 3 && deadN == 3 && dead == 3 && epDead == 3 && pending == 4 && other == 4
		})
		f := scrape(t, srv)
		if v, _ := value(f, "hookd_operational_events_total", map[string]string{"type": hookd.EventTypeDeliveryDead}); v != 3 {
			t.Errorf("hookd_operational_events_total{type=delivery.dead}: got %v, want 3", v)
		}
		if v, _ := value(f, "hookd_attempts_total", map[string]string{"outcome": "dead", "status_class": "5xx"}); v != 3 {
			t.Errorf("hookd_attempts_total{outcome=dead,status_class=5xx}: got %v, want 3", v)
		}
		// Replaying the dead letters empties the dead gauge.
		badHealed.Store(true)
		srv.must(202, "POST", "/v1/dead-letters/replay", map[string]any{"endpoint_id": epBad.ID}, nil)
		waitFor(t, 10*time.Second, "dead gauge back to 0", func() bool {
			v, _ := value(scrape(t, srv), "hookd_deliveries_dead", nil)
			return v == 0
		})
		if !strings.HasPrefix(epSlow.ID, "ep_") {
			t.Fatal(epSlow.ID)
		}
	})
}
