package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInputThroughTheServer sends every kind of bad input to the real
// server on both stores: each gets its status and a message naming the
// field, and nothing half-written is stored.
func TestBadInputThroughTheServer(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), func(c *config) { c.MaxPayloadBytes = 1024 })
		ep := srv.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/hook"})
		big := `{"type":"a.b","payload":{"x":"` + strings.Repeat("x", 2048) + `"}}`
		cases := []struct {
			name, method, path, body string
			header                   http.Header
			status                   int
			mention                  string
		}{
			{"no key", "GET", "/v1/endpoints", "", http.Header{"Authorization": {""}}, 401, ""},
			{"bad key", "GET", "/v1/endpoints", "", http.Header{"Authorization": {"Bearer nope"}}, 401, ""},
			{"malformed json", "POST", "/v1/events", `{"type":`, nil, 400, ""},
			{"wrong json type", "POST", "/v1/events", `{"type":5,"payload":{}}`, nil, 400, "type"},
			{"empty type", "POST", "/v1/events", `{"type":"","payload":{}}`, nil, 422, "type"},
			{"missing payload", "POST", "/v1/events", `{"type":"a.b"}`, nil, 422, "payload"},
			{"null payload", "POST", "/v1/events", `{"type":"a.b","payload":null}`, nil, 422, "payload"},
			{"payload too large", "POST", "/v1/events", big, nil, 413, ""},
			{"bad batch item", "POST", "/v1/events/batch", `{"events":[{"type":"a","payload":{}},{"type":"","payload":{}}]}`, nil, 422, "events[1].type"},
			{"missing url", "POST", "/v1/endpoints", `{}`, nil, 422, "url"},
			{"bad scheme", "POST", "/v1/endpoints", `{"url":"ftp://example.com/x"}`, nil, 422, "url"},
			{"not a url", "POST", "/v1/endpoints", `{"url":"::::"}`, nil, 422, "url"},
			{"negative max_attempts", "POST", "/v1/endpoints", `{"url":"https://example.com","max_attempts":-1}`, nil, 422, "max_attempts"},
			{"negative rate", "POST", "/v1/endpoints", `{"url":"https://example.com","rate_limit_per_second":-2}`, nil, 422, "rate_limit_per_second"},
			{"negative in flight", "POST", "/v1/endpoints", `{"url":"https://example.com","max_in_flight":-1}`, nil, 422, "max_in_flight"},
			{"bad secret", "POST", "/v1/endpoints", `{"url":"https://example.com","secret":"hunter2"}`, nil, 422, "secret"},
			{"reserved header", "POST", "/v1/endpoints", `{"url":"https://example.com","headers":{"webhook-id":"x"}}`, nil, 422, "headers"},
			{"bad event type pattern", "POST", "/v1/endpoints", `{"url":"https://example.com","event_types":[""]}`, nil, 422, "event_types"},
			{"unknown endpoint", "GET", "/v1/endpoints/ep_nope", "", nil, 404, ""},
			{"unknown endpoint patch", "PATCH", "/v1/endpoints/ep_nope", `{"description":"x"}`, nil, 404, ""},
			{"unknown delivery retry", "POST", "/v1/deliveries/dlv_nope/retry", "", nil, 404, ""},
			{"unknown event", "GET", "/v1/events/evt_nope", "", nil, 404, ""},
			{"bad status filter", "GET", "/v1/deliveries?status=lost", "", nil, 422, "status"},
			{"bad limit", "GET", "/v1/events?limit=100000", "", nil, 422, "limit"},
			{"bad replay time", "POST", "/v1/dead-letters/replay", `{"since":"yesterday"}`, nil, 422, "since"},
			{"patch negative", "PATCH", "/v1/endpoints/" + ep.ID, `{"max_in_flight":-5}`, nil, 422, "max_in_flight"},
		}
		for _, c := range cases {
			code, raw := srv.doRaw(c.method, c.path, c.body, c.header)
			if code != c.status {
				t.Errorf("%s: got %d %s, want %d", c.name, code, raw, c.status)
				continue
			}
			body := string(raw)
			if !strings.Contains(body, `"error":{"code":`) {
				t.Errorf("%s: body %s is not an error object", c.name, body)
			}
			if c.mention != "" && !strings.Contains(body, c.mention) {
				t.Errorf("%s: message %s does not name %q", c.name, body, c.mention)
			}
		}
		// Nothing half-written: only the one endpoint, no events, no deliveries.
		var eps, evs, ds struct{ Data []map[string]any }
		srv.must(200, "GET", "/v1/endpoints", nil, &eps)
		srv.must(200, "GET", "/v1/events", nil, &evs)
		srv.must(200, "GET", "/v1/deliveries", nil, &ds)
		if len(eps.Data) != 1 || len(evs.Data) != 0 || len(ds.Data) != 0 {
			t.Errorf("after bad input: %d endpoints, %d events, %d deliveries; want 1, 0, 0", len(eps.Data), len(evs.Data), len(ds.Data))
		}
		var got endpointJSON
		srv.must(200, "GET", "/v1/endpoints/"+ep.ID, nil, &got)
		if got.MaxInFlight != 0 {
			t.Errorf("rejected PATCH changed max_in_flight to %d", got.MaxInFlight)
		}
	})
}
