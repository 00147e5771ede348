package dispatch

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
)

// captured is one request as the receiver saw it.
type captured struct {
	header http.Header
	body   []byte
	method string
}

// recorder server: answers 200 and hands every request to the channel.
func captureServer(t *testing.T) (*httptest.Server, chan captured) {
	t.Helper()
	ch := make(chan captured, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- captured{header: r.Header.Clone(), body: b, method: r.Method}
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// specSignature computes a Standard Webhooks v1 signature from the spec.
func specSignature(t *testing.T, secret, id, ts string, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("decode secret: %v", err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestRequestHeadersAndBody(t *testing.T) {
	t.Parallel()
	const oldSecret = "whsec_dGhpcyBpcyB0aGUgb2xkIHNlY3JldCBrZXkgYnl0ZXM="
	const expiredSecret = "whsec_ZXhwaXJlZCBzZWNyZXQga2V5IGJ5dGVzIGhlcmUhIQ=="
	tests := []struct {
		name    string
		prev    []hookd.PreviousSecret
		secrets []string // expected signing secrets, in order
	}{
		{name: "one secret", secrets: []string{testSecret}},
		{
			name: "rotation",
			prev: []hookd.PreviousSecret{
				{Secret: oldSecret, ExpiresAt: time.Now().Add(time.Hour)},
				{Secret: expiredSecret, ExpiresAt: time.Now().Add(-time.Hour)},
			},
			secrets: []string{testSecret, oldSecret},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			srv, ch := captureServer(t)
			ep := e.endpoint(srv.URL+"/hook?x=1", func(ep *hookd.Endpoint) {
				ep.PreviousSecrets = tt.prev
				ep.Headers = map[string]string{
					"Authorization":     "Bearer abc",
					"X-Custom":          "yes",
					"webhook-id":        "evt_forged",
					"X-Signature":       "forged",
					"User-Agent":        "forged",
					"Content-Type":      "text/plain",
					"X-Idempotency-Key": "forged",
				}
			})
			payload := `{"b": 1,  "a":"é\u00e9",  "n":1.50}`
			ev, id := e.send(ep, `order."created"`, payload)
			before := time.Now().Unix()
			var got captured
			select {
			case got = <-ch:
			case <-time.After(10 * time.Second):
				t.Fatal("no request arrived")
			}
			after := time.Now().Unix()

			if got.method != http.MethodPost {
				t.Errorf("method: got %s, want POST", got.method)
			}
			wantBody := `{"id":"` + ev.ID + `","type":"order.\"created\"","timestamp":"` +
				ev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z") + `","data":` + payload + `}`
			if string(got.body) != wantBody {
				t.Errorf("body:\n got %s\nwant %s", got.body, wantBody)
			}
			h := got.header
			ts := h.Get("webhook-timestamp")
			n, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || n < before-1 || n > after {
				t.Errorf("webhook-timestamp: got %q, want unix seconds in [%d, %d]", ts, before-1, after)
			}
			var wantSigs []string
			for _, s := range tt.secrets {
				wantSigs = append(wantSigs, specSignature(t, s, ev.ID, ts, got.body))
			}
			plain := hmac.New(sha256.New, []byte(testSecret))
			plain.Write(got.body)
			for name, want := range map[string]string{
				"Content-Type":      "application/json",
				"webhook-id":        ev.ID,
				"X-Idempotency-Key": ev.ID,
				"webhook-signature": strings.Join(wantSigs, " "),
				"X-Signature":       hex.EncodeToString(plain.Sum(nil)),
				"User-Agent":        "hookd/test",
				"Authorization":     "Bearer abc",
				"X-Custom":          "yes",
			} {
				if vs := h.Values(name); len(vs) != 1 || vs[0] != want {
					t.Errorf("header %s: got %q, want [%q]", name, vs, want)
				}
			}
			e.waitStatus(id, hookd.StatusSucceeded)
		})
	}
}
