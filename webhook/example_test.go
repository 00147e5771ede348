package webhook_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/hookd/hookd/webhook"
)

// A receiver checks a request with the endpoint's secret, before parsing the
// body. The body must be the raw bytes received, not re-encoded JSON.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // from hookd's POST /v1/endpoints

	// What hookd sends (normally read from the *http.Request).
	body := []byte(`{"id":"evt_1","type":"order.created","timestamp":"2026-11-29T10:00:00.123Z","data":{"order":42}}`)
	now := time.Now()
	sig, _ := webhook.Sign(secret, "evt_1", now, body)
	header := http.Header{}
	header.Set("webhook-id", "evt_1")
	header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	header.Set("webhook-signature", sig)

	fmt.Println(webhook.Verify(secret, header, body))

	// Any change to the body breaks the signature.
	err := webhook.Verify(secret, header, append(body, ' '))
	fmt.Println(errors.Is(err, webhook.ErrBadSignature))
	// Output:
	// <nil>
	// true
}

// During a secret rotation the receiver accepts both secrets; the sender
// signs with both for a while (one "v1,…" per secret).
func ExampleNewVerifier() {
	oldSecret := "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	newSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	at := time.Unix(1764410400, 0)
	v, err := webhook.NewVerifier([]string{newSecret, oldSecret},
		webhook.WithTolerance(2*time.Minute),
		webhook.WithClock(func() time.Time { return at.Add(time.Minute) }), // tests pin the clock
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte(`{"data":{}}`)
	sig, _ := webhook.Sign(oldSecret, "evt_1", at, body)
	header := http.Header{}
	header.Set(webhook.HeaderID, "evt_1")
	header.Set(webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	header.Set(webhook.HeaderSignature, sig)
	fmt.Println("old secret:", v.Verify(header, body))

	late, _ := webhook.NewVerifier([]string{newSecret, oldSecret},
		webhook.WithClock(func() time.Time { return at.Add(time.Hour) }))
	fmt.Println("an hour later:", late.Verify(header, body))
	// Output:
	// old secret: <nil>
	// an hour later: webhook: timestamp too old
}

// The Middleware verifies, deduplicates on webhook-id and hands the event to
// the handler. A second delivery of the same id does not run the handler.
func ExampleMiddleware() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	v, err := webhook.NewVerifier([]string{secret})
	if err != nil {
		fmt.Println(err)
		return
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, _ := webhook.FromContext(r.Context())
		fmt.Printf("handling %s %s %s\n", ev.ID, ev.Type, ev.Data)
		w.WriteHeader(http.StatusNoContent) // 2xx: the id is marked done
	})
	h := webhook.Middleware(handler, webhook.Options{
		Verifier: v,
		Store:    webhook.NewMemoryStore(webhook.MemoryOptions{}), // or redisstore, sqlstore
	})
	// In a server: http.Handle("/webhooks", h)

	deliver := func(sig string) int {
		body := []byte(`{"id":"evt_1","type":"order.created","timestamp":"2026-11-29T10:00:00Z","data":{"order":42}}`)
		now := time.Now()
		if sig == "" {
			sig, _ = webhook.Sign(secret, "evt_1", now, body)
		}
		r := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		r.Header.Set(webhook.HeaderID, "evt_1")
		r.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		r.Header.Set(webhook.HeaderSignature, sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	fmt.Println("first delivery:", deliver(""))
	fmt.Println("retry of the same id:", deliver(""))
	fmt.Println("forged signature:", deliver("v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="))
	// Output:
	// handling evt_1 order.created {"order":42}
	// first delivery: 204
	// retry of the same id: 200
	// forged signature: 401
}

// A handler reads the verified body as usual.
func ExampleFromContext() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the verified bytes, re-readable
		ev, ok := webhook.FromContext(r.Context())
		fmt.Println(ok, ev.ID, ev.Type, len(body) > 0)
	})
	secret, _ := webhook.NewSecret()
	v, _ := webhook.NewVerifier([]string{secret})
	h := webhook.Middleware(handler, webhook.Options{Verifier: v})

	body := []byte(`{"id":"evt_9","type":"invoice.paid","timestamp":"2026-11-29T10:00:00Z","data":{}}`)
	now := time.Now()
	sig, _ := webhook.Sign(secret, "evt_9", now, body)
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set(webhook.HeaderID, "evt_9")
	r.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	r.Header.Set(webhook.HeaderSignature, sig)
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output: true evt_9 invoice.paid true
}

// Asymmetric signatures ("v1a", ed25519): the sender keeps the "whsk_" key,
// receivers get only the "whpk_" public key.
func ExampleSignEd25519() {
	secretKey, publicKey, _ := webhook.NewKeyPair()
	now := time.Now()
	body := []byte(`{}`)
	sig, _ := webhook.SignEd25519(secretKey, "evt_1", now, body)

	header := http.Header{}
	header.Set(webhook.HeaderID, "evt_1")
	header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	header.Set(webhook.HeaderSignature, sig)
	fmt.Println(sig[:4], webhook.Verify(publicKey, header, body))
	// Output: v1a, <nil>
}

// X-Signature is the plain HMAC of the body, keyed with the secret string
// as given (including "whsec_"). It has no timestamp: prefer Verify.
func ExampleVerifyPlain() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	sig := webhook.SignPlain(secret, body) // the X-Signature header
	fmt.Println(sig)
	fmt.Println(webhook.VerifyPlain(secret, sig, body))
	// Output:
	// 80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c
	// <nil>
}
