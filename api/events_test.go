package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookd/hookd"
)

func TestCreateEventFanOut(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := b.endpoint(`{"url":"https://example.com/a","tenant_id":"acme","event_types":["order.*"]}`)
	all := b.endpoint(`{"url":"https://example.com/all","tenant_id":"acme"}`)
	b.endpoint(`{"url":"https://example.com/inv","tenant_id":"acme","event_types":["invoice.paid"]}`)
	b.endpoint(`{"url":"https://example.com/other","tenant_id":"other"}`)
	b.endpoint(`{"url":"https://example.com/off","tenant_id":"acme","disabled":true}`)

	// The payload comes back byte for byte: spacing, key order, HTML characters.
	payload := `{ "b" : 1,  "a":"<x>&amp;",
	"n": 1.0e3 }`
	body := `{"type":"order.created","tenant_id":"acme","payload":` + payload + `}`
	w := b.do("POST", "/v1/events", body)
	if w.Code != http.StatusAccepted {
		t.Fatalf("got %d, want 202: %s", w.Code, w.Body)
	}
	if !strings.Contains(w.Body.String(), `"payload":`+payload+`,`) {
		t.Errorf("payload not emitted as received: %s", w.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
	}
	id := got["id"].(string)
	if !hookd.HasPrefix(id, hookd.PrefixEvent) || got["deliveries"] != 2.0 || got["type"] != "order.created" ||
		got["tenant_id"] != "acme" || got["idempotency_key"] != "" || got["created_at"] == nil {
		t.Errorf("got %v, want evt_ id, 2 deliveries", got)
	}
	if loc := w.Header().Get("Location"); loc != "/v1/events/"+id {
		t.Errorf("got Location %q", loc)
	}

	one := b.do("GET", "/v1/events/"+id, "")
	if one.Code != 200 || !strings.Contains(one.Body.String(), `"payload":`+payload+`,`) {
		t.Fatalf("GET event: %d %s", one.Code, one.Body)
	}
	var ev struct {
		ID         string         `json:"id"`
		Deliveries []deliveryJSON `json:"deliveries"`
	}
	if err := json.Unmarshal(one.Body.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, d := range ev.Deliveries {
		targets[d.EndpointID] = true
		if d.Status != "pending" || d.EventID != id || d.NextAttemptAt == nil || d.Attempts != 0 {
			t.Errorf("got delivery %+v", d)
		}
	}
	if len(ev.Deliveries) != 2 || !targets[a] || !targets[all] {
		t.Errorf("got deliveries to %v, want %s and %s", targets, a, all)
	}
	checkError(t, b.do("GET", "/v1/events/evt_missing", ""), 404, hookd.ENOTFOUND, "")
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.endpoint(`{"url":"https://example.com/a","tenant_id":"t1"}`)
	b.endpoint(`{"url":"https://example.com/b","tenant_id":"t2"}`)

	first := b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"a.b","tenant_id":"t1","payload":{"n":1}}`, "Idempotency-Key: k1")
	if first["idempotency_key"] != "k1" || first["deliveries"] != 1.0 {
		t.Fatalf("got %v", first)
	}
	tests := []struct {
		name    string
		body    string
		header  string
		status  int
		sameAs  map[string]any
		wantNew bool
	}{
		{"header again", `{"type":"a.b","tenant_id":"t1","payload":{"n":1}}`, "Idempotency-Key: k1", 200, first, false},
		{"field instead of header", `{"type":"a.b","tenant_id":"t1","payload": { "n" : 1 },"idempotency_key":"k1"}`, "", 200, first, false},
		{"same key other tenant", `{"type":"a.b","tenant_id":"t2","payload":{"n":4},"idempotency_key":"k1"}`, "", 202, nil, true},
		{"other key", `{"type":"a.b","tenant_id":"t1","payload":{"n":5},"idempotency_key":"k2"}`, "", 202, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(b.deliveries(hookd.DeliveryFilter{}))
			var headers []string
			if tt.header != "" {
				headers = append(headers, tt.header)
			}
			got := b.must(tt.status, "POST", "/v1/events", tt.body, headers...)
			after := len(b.deliveries(hookd.DeliveryFilter{}))
			if tt.sameAs != nil {
				if got["id"] != tt.sameAs["id"] || got["deliveries"] != 0.0 || got["created_at"] != tt.sameAs["created_at"] {
					t.Errorf("got %v, want the original event %v with deliveries 0", got, tt.sameAs["id"])
				}
				if p := got["payload"].(map[string]any); p["n"] != 1.0 {
					t.Errorf("got payload %v, want the original one", p)
				}
			}
			if tt.wantNew != (after == before+1) {
				t.Errorf("deliveries went from %d to %d", before, after)
			}
		})
	}
	checkError(t, b.do("POST", "/v1/events", `{"type":"a.b","payload":{},"idempotency_key":"x"}`, "Idempotency-Key: y"),
		422, hookd.EINVALID, "idempotency_key: differs from the Idempotency-Key header")

	// The same key for another event: 409 saying so, nothing stored.
	before := len(b.events())
	checkError(t, b.do("POST", "/v1/events", `{"type":"a.b","tenant_id":"t1","payload":{"n":2}}`, "Idempotency-Key: k1"),
		409, hookd.ECONFLICT, `idempotency key "k1" was already used by event `+first["id"].(string)+" with a different type or payload")
	checkError(t, b.do("POST", "/v1/events", `{"type":"a.c","tenant_id":"t1","payload":{"n":1},"idempotency_key":"k1"}`),
		409, hookd.ECONFLICT, "different type or payload")
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[{"type":"x","tenant_id":"t1","payload":1},{"type":"a.b","tenant_id":"t1","payload":{"n":9},"idempotency_key":"k1"}]}`),
		409, hookd.ECONFLICT, `"k1"`)
	if after := len(b.events()); after != before {
		t.Errorf("events went from %d to %d after conflicts, want none stored", before, after)
	}
}

// TestBadCursorAndMissingFilters: a cursor no list returned is 400, and a
// filter naming an endpoint or event that does not exist is 404.
func TestBadCursorAndMissingFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ep := b.endpoint(`{"url":"https://example.com/a"}`)
	own := map[string]string{"/v1/endpoints": "ep_", "/v1/events": "evt_", "/v1/deliveries": "dlv_"}
	for path, prefix := range own {
		for _, c := range []string{"garbage", prefix, prefix + "01arz3ndektsv4rrffq69g5fa!", "zz_01arz3ndektsv4rrffq69g5fav", prefix + "01arz3ndektsv4rrffq69g5fav0"} {
			checkError(t, b.do("GET", path+"?cursor="+url.QueryEscape(c), ""), 400, hookd.EMALFORMED, "cursor")
		}
		b.must(http.StatusOK, "GET", path+"?cursor="+prefix+"01arz3ndektsv4rrffq69g5fav", "")
	}
	checkError(t, b.do("GET", "/v1/deliveries?endpoint_id=ep_doesnotexist", ""), 404, hookd.ENOTFOUND, "endpoint ep_doesnotexist does not exist")
	checkError(t, b.do("GET", "/v1/deliveries?event_id=evt_doesnotexist", ""), 404, hookd.ENOTFOUND, "event evt_doesnotexist does not exist")
	checkError(t, b.do("POST", "/v1/dead-letters/replay", `{"endpoint_id":"ep_doesnotexist"}`), 404, hookd.ENOTFOUND, "endpoint ep_doesnotexist does not exist")
	b.must(http.StatusOK, "GET", "/v1/deliveries?endpoint_id="+ep, "")
	b.must(http.StatusAccepted, "POST", "/v1/dead-letters/replay", `{"endpoint_id":"`+ep+`"}`)
}

func TestEventValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxPayloadBytes = 1000 })
	big := `"` + strings.Repeat("x", 1000) + `"`
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		want   string
	}{
		{"no type", `{"payload":{}}`, 422, hookd.EINVALID, "type: is required"},
		{"long type", `{"type":"` + strings.Repeat("t", 257) + `","payload":{}}`, 422, hookd.EINVALID, "type: must be at most 256"},
		{"space in type", `{"type":"order created","payload":{}}`, 422, hookd.EINVALID, "type: must be printable characters without spaces"},
		{"control in type", `{"type":"a\u0007","payload":{}}`, 422, hookd.EINVALID, "type: must be printable"},
		{"no payload", `{"type":"a"}`, 422, hookd.EINVALID, "payload: is required"},
		{"null payload", `{"type":"a","payload":null}`, 422, hookd.EINVALID, "payload: must not be null"},
		{"big payload", `{"type":"a","payload":` + big + `}`, 413, hookd.ETOOLARGE, "payload: exceeds 1000 bytes"},
		{"huge body", `{"type":"a","payload":"` + strings.Repeat("x", 20<<10) + `"}`, 413, hookd.ETOOLARGE, "request body exceeds"},
		{"long key", `{"type":"a","payload":1,"idempotency_key":"` + strings.Repeat("k", 257) + `"}`, 422, hookd.EINVALID, "idempotency_key: must be at most 256"},
		{"long tenant", `{"type":"a","payload":1,"tenant_id":"` + strings.Repeat("t", 129) + `"}`, 422, hookd.EINVALID, "tenant_id: must be at most 128"},
		{"bad payload JSON", `{"type":"a","payload":{"x":}}`, 400, hookd.EMALFORMED, "malformed JSON"},
		{"type not string", `{"type":["a"],"payload":{}}`, 400, hookd.EMALFORMED, "type: got JSON array, want string"},
		{"unknown field", `{"type":"a","payload":{},"data":{}}`, 400, hookd.EMALFORMED, `unknown field "data"`},
		{"empty body", ``, 400, hookd.EMALFORMED, "request body is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, b.do("POST", "/v1/events", tt.body), tt.status, tt.code, tt.want)
		})
	}
	if n := len(b.events()); n != 0 {
		t.Errorf("got %d stored events, want 0", n)
	}
	// Scalars and arrays are valid payloads.
	for _, p := range []string{`1`, `"s"`, `[1,2]`, `true`} {
		b.must(http.StatusAccepted, "POST", "/v1/events", `{"type":"a","payload":`+p+`}`)
	}
}

func TestBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.endpoint(`{"url":"https://example.com/a"}`)
	var items []string
	for i := range 5 {
		items = append(items, fmt.Sprintf(`{"type":"t.%d","payload":{"i":%d}}`, i, i))
	}
	items = append(items, `{"type":"t.0","payload":{"dup":true},"idempotency_key":"k"}`,
		`{"type":"t.0","payload":{"dup":true},"idempotency_key":"k"}`)
	got := b.must(http.StatusAccepted, "POST", "/v1/events/batch", `{"events":[`+strings.Join(items, ",")+`]}`)
	data := got["data"].([]any)
	if len(data) != 7 {
		t.Fatalf("got %d results, want 7", len(data))
	}
	if _, ok := got["next_cursor"]; ok {
		t.Errorf("batch answer has next_cursor")
	}
	for i := range 5 {
		ev := data[i].(map[string]any)
		if ev["type"] != fmt.Sprintf("t.%d", i) || ev["payload"].(map[string]any)["i"] != float64(i) || ev["deliveries"] != 1.0 {
			t.Errorf("result %d: got %v, want request order", i, ev)
		}
	}
	if d5, d6 := data[5].(map[string]any), data[6].(map[string]any); d6["id"] != d5["id"] || d6["deliveries"] != 0.0 {
		t.Errorf("second use of a key in one batch: got %v, want the first event %v", d6, d5["id"])
	}

	// All or nothing: one bad item fails the batch and stores nothing.
	before := len(b.events())
	bad := append([]string(nil), items[:5]...)
	bad[3] = `{"type":"","payload":{}}`
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[`+strings.Join(bad, ",")+`]}`), 422, hookd.EINVALID, "events[3].type: is required")
	bad[3] = `{"type":"a","payload":{},"extra":1}`
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[`+strings.Join(bad, ",")+`]}`), 400, hookd.EMALFORMED, `unknown field "events[3].extra"`)
	bad[3] = `{"type":7,"payload":{}}`
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[`+strings.Join(bad, ",")+`]}`), 400, hookd.EMALFORMED, "events[3].type: got JSON number, want string")
	bad[3] = `"x"`
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[`+strings.Join(bad, ",")+`]}`), 400, hookd.EMALFORMED, "events[3]: got JSON string, want an object")
	bad[3] = `{"type":"a","payload":null}`
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[`+strings.Join(bad, ",")+`]}`), 422, hookd.EINVALID, "events[3].payload: must not be null")
	if after := len(b.events()); after != before {
		t.Errorf("got %d events after failed batches, want %d", after, before)
	}

	tooMany := strings.TrimSuffix(strings.Repeat(`{"type":"a","payload":1},`, MaxBatchEvents+1), ",")
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[`+tooMany+`]}`), 422, hookd.EINVALID, "events: must hold 1 to 1000 events, got 1001")
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[]}`), 422, hookd.EINVALID, "events: must hold 1 to 1000")
	checkError(t, b.do("POST", "/v1/events/batch", `{}`), 422, hookd.EINVALID, "events: must hold 1 to 1000")
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[{"type":"a","payload":1}]}`, "Idempotency-Key: k"), 422, hookd.EINVALID, "Idempotency-Key")
	full := strings.TrimSuffix(strings.Repeat(`{"type":"a","payload":1},`, MaxBatchEvents), ",")
	if got := b.must(http.StatusAccepted, "POST", "/v1/events/batch", `{"events":[`+full+`]}`); len(got["data"].([]any)) != MaxBatchEvents {
		t.Errorf("a full batch did not answer %d results", MaxBatchEvents)
	}
}

func TestBatchBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxPayloadBytes = 1000; c.MaxBatchBytes = 40 << 10 })
	payload := `"` + strings.Repeat("x", 900) + `"`
	items := strings.TrimSuffix(strings.Repeat(`{"type":"a","payload":`+payload+`},`, 50), ",")
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[`+items+`]}`), 413, hookd.ETOOLARGE, "request body exceeds 40960 bytes")
	bigItem := `{"type":"a","payload":"` + strings.Repeat("x", 1000) + `"}`
	checkError(t, b.do("POST", "/v1/events/batch", `{"events":[{"type":"a","payload":1},`+bigItem+`]}`), 413, hookd.ETOOLARGE, "events[1].payload: exceeds 1000 bytes")
}

func TestListEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 6 {
		tenant := []string{"", "t1"}[i%2]
		b.must(http.StatusAccepted, "POST", "/v1/events", fmt.Sprintf(`{"type":"k.%d","tenant_id":%q,"payload":{"i":%d}}`, i%3, tenant, i))
	}
	tests := []struct {
		query string
		want  int
	}{
		{"", 6},
		{"?type=k.0", 2},
		{"?tenant_id=t1", 3},
		{"?tenant_id=", 3},
		{"?tenant_id=t1&type=k.1", 1},
		{"?type=none", 0},
	}
	for _, tt := range tests {
		got := b.must(http.StatusOK, "GET", "/v1/events"+tt.query, "")
		if n := len(got["data"].([]any)); n != tt.want {
			t.Errorf("%s: got %d events, want %d", tt.query, n, tt.want)
		}
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 1; ; pages++ {
		got := b.must(http.StatusOK, "GET", "/v1/events?limit=4&cursor="+cursor, "")
		for _, ev := range got["data"].([]any) {
			m := ev.(map[string]any)
			if _, ok := m["deliveries"]; ok {
				t.Errorf("a listed event has deliveries: %v", m)
			}
			seen[m["id"].(string)] = true
		}
		if cursor = got["next_cursor"].(string); cursor == "" {
			if pages != 2 {
				t.Errorf("got %d pages, want 2", pages)
			}
			break
		}
	}
	if len(seen) != 6 {
		t.Errorf("got %d distinct events over pages, want 6", len(seen))
	}
}
