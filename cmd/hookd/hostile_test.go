package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestHostileTextThroughTheServer sends NUL and invalid UTF-8 in every
// place text reaches the store (path ids, query filters, cursors, JSON
// fields, the Idempotency-Key header) to the real server on both stores:
// each answers the same 400 or 422 naming the field, and nothing is stored.
func TestHostileTextThroughTheServer(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		ep := srv.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/hook"})
		id := "/v1/endpoints/" + ep.ID
		const nul, bad = "%00", "%FF" // in a URL
		const jnul = `a\u0000b`       // in JSON
		badUTF8 := "a\xffb"           // raw bytes in a JSON string
		cases := []struct {
			name, method, path, body string
			header                   http.Header
			status                   int
			field                    string
		}{
			{"endpoint id nul", "GET", "/v1/endpoints/ep_" + nul, "", nil, 422, "id"},
			{"endpoint id utf8", "GET", "/v1/endpoints/ep_" + bad, "", nil, 400, "id"},
			{"patch id nul", "PATCH", "/v1/endpoints/ep_" + nul, `{"description":"x"}`, nil, 422, "id"},
			{"delete id utf8", "DELETE", "/v1/endpoints/ep_" + bad, "", nil, 400, "id"},
			{"rotate id nul", "POST", "/v1/endpoints/ep_" + nul + "/rotate-secret", "", nil, 422, "id"},
			{"test id utf8", "POST", "/v1/endpoints/ep_" + bad + "/test", "", nil, 400, "id"},
			{"event id nul", "GET", "/v1/events/evt_" + nul, "", nil, 422, "id"},
			{"delivery id utf8", "GET", "/v1/deliveries/dlv_" + bad, "", nil, 400, "id"},
			{"attempts id nul", "GET", "/v1/deliveries/dlv_" + nul + "/attempts", "", nil, 422, "id"},
			{"retry id utf8", "POST", "/v1/deliveries/dlv_" + bad + "/retry", "", nil, 400, "id"},
			{"cursor nul", "GET", "/v1/endpoints?cursor=" + nul, "", nil, 422, "cursor"},
			{"cursor utf8", "GET", "/v1/events?cursor=" + bad, "", nil, 400, "cursor"},
			{"tenant filter nul", "GET", "/v1/endpoints?tenant_id=" + nul, "", nil, 422, "tenant_id"},
			{"type filter utf8", "GET", "/v1/events?type=" + bad, "", nil, 400, "type"},
			{"events tenant nul", "GET", "/v1/events?tenant_id=a" + nul, "", nil, 422, "tenant_id"},
			{"endpoint_id filter nul", "GET", "/v1/deliveries?endpoint_id=" + nul, "", nil, 422, "endpoint_id"},
			{"event_id filter utf8", "GET", "/v1/deliveries?event_id=" + bad, "", nil, 400, "event_id"},
			{"query name utf8", "GET", "/v1/events?" + bad + "=1", "", nil, 400, "query parameter name"},
			{"query malformed", "GET", "/v1/events?type=%zz", "", nil, 400, "query"},
			{"description nul", "POST", "/v1/endpoints", `{"url":"https://example.com/","description":"` + jnul + `"}`, nil, 422, "description"},
			{"description utf8", "PATCH", id, `{"description":"` + badUTF8 + `"}`, nil, 400, "description"},
			{"header value nul", "PATCH", id, `{"headers":{"X-A":"` + jnul + `"}}`, nil, 422, "headers.X-A"},
			{"event type pattern utf8", "PATCH", id, `{"event_types":["` + badUTF8 + `"]}`, nil, 400, "event_types[0]"},
			{"event type nul", "POST", "/v1/events", `{"type":"` + jnul + `","payload":{}}`, nil, 422, "type"},
			{"idempotency key nul", "POST", "/v1/events", `{"type":"a.b","payload":{},"idempotency_key":"` + jnul + `"}`, nil, 422, "idempotency_key"},
			{"idempotency key utf8", "POST", "/v1/events", `{"type":"a.b","payload":{},"idempotency_key":"` + badUTF8 + `"}`, nil, 400, "idempotency_key"},
			{"idempotency header utf8", "POST", "/v1/events", `{"type":"a.b","payload":{}}`, http.Header{"Idempotency-Key": {badUTF8}}, 400, "Idempotency-Key"},
			{"tenant nul", "POST", "/v1/events", `{"type":"a.b","payload":{},"tenant_id":"` + jnul + `"}`, nil, 422, "tenant_id"},
			{"batch item key utf8", "POST", "/v1/events/batch", `{"events":[{"type":"a","payload":{}},{"type":"a","payload":{},"idempotency_key":"` + badUTF8 + `"}]}`, nil, 400, "events[1].idempotency_key"},
			{"payload utf8", "POST", "/v1/events", `{"type":"a.b","payload":{"note":"` + badUTF8 + `"}}`, nil, 400, "payload.note"},
			{"batch payload utf8", "POST", "/v1/events/batch", `{"events":[{"type":"a","payload":["` + badUTF8 + `"]}]}`, nil, 400, "events[0].payload[0]"},
			{"replay endpoint nul", "POST", "/v1/dead-letters/replay", `{"endpoint_id":"` + jnul + `"}`, nil, 422, "endpoint_id"},
			{"replay type utf8", "POST", "/v1/dead-letters/replay", `{"event_type":"` + badUTF8 + `"}`, nil, 400, "event_type"},
			{"rotate secret nul", "POST", id + "/rotate-secret", `{"secret":"` + jnul + `"}`, nil, 422, "secret"},
			{"key nul", "POST", "/v1/endpoints", `{"url":"https://example.com/","a` + `\u0000` + `":1}`, nil, 422, "a\x00"},
		}
		for _, c := range cases {
			code, raw := srv.doRaw(c.method, c.path, c.body, c.header)
			checkErrorAnswer(t, c.name, code, raw, c.status, c.field)
		}
		var eps, evs struct{ Data []map[string]any }
		srv.must(200, "GET", "/v1/endpoints", nil, &eps)
		srv.must(200, "GET", "/v1/events", nil, &evs)
		if len(eps.Data) != 1 || len(evs.Data) != 0 {
			t.Errorf("after hostile text: %d endpoints, %d events; want 1, 0", len(eps.Data), len(evs.Data))
		}
		var got endpointJSON
		srv.must(200, "GET", id, nil, &got)
		if got.Description != "" || len(got.Headers) != 0 || got.Secret != ep.Secret {
			t.Errorf("a refused request changed the endpoint: %+v", got)
		}
	})
}

// TestStrictJSONThroughTheServer: unknown fields, keys given twice and
// keys that differ only in case are refused with 400 naming the field, at
// every level of the API's own objects, on both stores; a payload's own
// keys are the producer's business and are kept byte for byte.
func TestStrictJSONThroughTheServer(t *testing.T) {
	backends(t, func(t *testing.T, db func(*testing.T) string) {
		srv := startServer(t, db(t), nil)
		ep := srv.createEndpoint(map[string]any{"url": "http://127.0.0.1:9/hook"})
		id := "/v1/endpoints/" + ep.ID
		cases := []struct {
			name, method, path, body string
			field                    string
		}{
			{"unknown field", "POST", "/v1/endpoints", `{"url":"https://example.com/","color":"red"}`, "color"},
			{"case-folded pair", "POST", "/v1/endpoints", `{"url":"https://example.com/a","URL":"http://127.0.0.1/"}`, "URL"},
			{"duplicate key", "POST", "/v1/endpoints", `{"url":"https://example.com/a","url":"http://127.0.0.1/"}`, "url"},
			{"wrong case alone", "POST", "/v1/endpoints", `{"URL":"https://example.com/a"}`, "URL"},
			{"patch duplicate", "PATCH", id, `{"disabled":false,"disabled":true}`, "disabled"},
			{"header map duplicate", "PATCH", id, `{"headers":{"X-A":"1","X-A":"2"}}`, "headers.X-A"},
			{"event duplicate", "POST", "/v1/events", `{"type":"a.b","payload":{},"Type":"c.d"}`, "Type"},
			{"batch item duplicate", "POST", "/v1/events/batch", `{"events":[{"type":"a.b","payload":{},"tenant_id":"x","tenant_id":"y"}]}`, "events[0].tenant_id"},
			{"batch duplicate events", "POST", "/v1/events/batch", `{"events":[],"events":[{"type":"a","payload":{}}]}`, "events"},
			{"replay case", "POST", "/v1/dead-letters/replay", `{"Endpoint_ID":"ep_x"}`, "Endpoint_ID"},
			{"rotate duplicate", "POST", id + "/rotate-secret", `{"secret":"x","secret":"y"}`, "secret"},
		}
		for _, c := range cases {
			code, raw := srv.doRaw(c.method, c.path, c.body, nil)
			checkErrorAnswer(t, c.name, code, raw, 400, c.field)
		}
		var got endpointJSON
		srv.must(200, "GET", id, nil, &got)
		if got.Disabled || len(got.Headers) != 0 || got.Secret != ep.Secret {
			t.Errorf("a refused request changed the endpoint: %+v", got)
		}

		// A payload keeps its own keys (duplicates, cases, escapes, NUL
		// escapes, odd spacing) byte for byte.
		payload := `{ "a":1,"a":2, "A":"\u0000\u00e9é" ,"n":[1.50,  -0e0]}`
		code, raw := srv.doRaw("POST", "/v1/events", `{"type":"a.b","payload":`+payload+`}`, nil)
		if code != 202 {
			t.Fatalf("payload with its own duplicate keys: got %d %s, want 202", code, raw)
		}
		var ev eventJSON
		decodeJSON(t, raw, &ev)
		if string(ev.Payload) != payload {
			t.Errorf("payload at ingest: got %s, want %s", ev.Payload, payload)
		}
		srv.must(200, "GET", "/v1/events/"+ev.ID, nil, &ev)
		if string(ev.Payload) != payload {
			t.Errorf("payload read back: got %s, want %s", ev.Payload, payload)
		}
	})
}

// checkErrorAnswer checks an error answer's status, shape and that its
// message names field.
func checkErrorAnswer(t *testing.T, name string, code int, raw []byte, status int, field string) {
	t.Helper()
	if code != status {
		t.Errorf("%s: got %d %s, want %d", name, code, raw, status)
		return
	}
	var e errorJSON
	decodeJSON(t, raw, &e)
	if e.Error.Code == "" || !strings.Contains(e.Error.Message, field) {
		t.Errorf("%s: answer %s does not name %q", name, raw, field)
	}
}

func decodeJSON(t *testing.T, raw []byte, out any) {
	t.Helper()
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
}
