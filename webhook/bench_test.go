package webhook_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/hookd/hookd/webhook"
)

var benchBody = bytes.Repeat([]byte("x"), 1024)

func BenchmarkSign(b *testing.B) {
	now := time.Now()
	for b.Loop() {
		if _, err := webhook.Sign(testSecret, "evt_1", now, benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	v := must(webhook.NewVerifier([]string{testSecret}))
	now := time.Now()
	h := headers("evt_1", now.Unix(), must(webhook.Sign(testSecret, "evt_1", now, benchBody)))
	for b.Loop() {
		if err := v.Verify(h, benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMiddleware measures one verified, deduplicated delivery of a new
// id through the MemoryStore, handler included.
func BenchmarkMiddleware(b *testing.B) {
	v := must(webhook.NewVerifier([]string{testSecret}))
	h := webhook.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		webhook.Options{Verifier: v})
	now := time.Now()
	i := 0
	for b.Loop() {
		i++
		id := "evt_" + strconv.Itoa(i)
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(benchBody))
		r.Header = headers(id, now.Unix(), must(webhook.Sign(testSecret, id, now, benchBody)))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("got %d", w.Code)
		}
	}
}
