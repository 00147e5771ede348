package dispatch

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

func TestAppendEnvelope(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		ev   hookd.Event
		want string
	}{
		{
			name: "payload bytes kept",
			ev:   hookd.Event{ID: "evt_1", Type: "order.created", Payload: json.RawMessage(`{"b":1, "a" : [1.50,2e3]}`), CreatedAt: at},
			want: `{"id":"evt_1","type":"order.created","timestamp":"2026-11-29T09:00:00.123Z","data":{"b":1, "a" : [1.50,2e3]}}`,
		},
		{
			name: "type escaped",
			ev:   hookd.Event{ID: "evt_2", Type: "a\"b\\c\n", Payload: json.RawMessage(`1`), CreatedAt: at},
			want: `{"id":"evt_2","type":"a\"b\\c\n","timestamp":"2026-11-29T09:00:00.123Z","data":1}`,
		},
		{
			name: "empty payload",
			ev:   hookd.Event{ID: "evt_3", Type: "t", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			want: `{"id":"evt_3","type":"t","timestamp":"2026-01-02T03:04:05.000Z","data":null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendEnvelope(nil, &tt.ev))
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestSignHeadersNoValidSecret(t *testing.T) {
	t.Parallel()
	ep := &hookd.Endpoint{Secret: "whsec_!!!"}
	ev := &hookd.Event{ID: "evt_1"}
	if err := signHeaders(http.Header{}, ep, ev, []byte(`{}`), time.Now(), "ua"); err != errNoSecret {
		t.Errorf("got %v, want errNoSecret", err)
	}
}

func BenchmarkEnvelopeAndSign(b *testing.B) {
	ep := &hookd.Endpoint{Secret: testSecret, Headers: map[string]string{"Authorization": "Bearer x"}}
	ev := &hookd.Event{
		ID: "evt_01jdq7m5x2k9v8r3t6y4w0z1a", Type: "order.created", CreatedAt: time.Now(),
		Payload: json.RawMessage(`{"order_id":"ord_123","amount":4200,"currency":"eur","items":[{"sku":"a","qty":2},{"sku":"b","qty":1}]}`),
	}
	now := time.Now()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		body := appendEnvelope(buf[:0], ev)
		h := make(http.Header, 10)
		if err := signHeaders(h, ep, ev, body, now, "hookd/bench"); err != nil {
			b.Fatal(err)
		}
	}
}
