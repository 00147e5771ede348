package webhook_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookd/hookd/webhook"
)

// The reference library checks timestamps against time.Now, so these tests
// sign with the current time.

func TestInteropOursVerifiedByReference(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		secret := must(webhook.NewSecret())
		ref := must(standardwebhooks.NewWebhook(secret))
		id := "evt_" + strconv.Itoa(i)
		body := []byte(`{"id":"` + id + `","type":"t","timestamp":"2026-11-29T10:00:00Z","data":{"i":` + strconv.Itoa(i) + `}}`)
		now := time.Now()
		sig := must(webhook.Sign(secret, id, now, body))
		if err := ref.Verify(body, headers(id, now.Unix(), sig)); err != nil {
			t.Errorf("reference rejects our signature %s: %v", sig, err)
		}
		// Rotation: our two signatures in one header.
		other := must(webhook.Sign(must(webhook.NewSecret()), id, now, body))
		if err := ref.Verify(body, headers(id, now.Unix(), other+" "+sig)); err != nil {
			t.Errorf("reference rejects our rotated header: %v", err)
		}
		// And a tampered body is rejected by both.
		if err := ref.Verify(append(body, ' '), headers(id, now.Unix(), sig)); err == nil {
			t.Errorf("reference accepts a tampered body")
		}
	}
}

func TestInteropReferenceVerifiedByOurs(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		secret := must(webhook.NewSecret())
		ref := must(standardwebhooks.NewWebhook(secret))
		id := "msg_" + strconv.Itoa(i)
		body := []byte(`{"n":` + strconv.Itoa(i) + `}`)
		now := time.Now()
		sig := must(ref.Sign(id, now, body))
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, id)
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		if err := webhook.Verify(secret, h, body); err != nil {
			t.Errorf("we reject the reference's signature %s: %v", sig, err)
		}
		// The reference's raw (unprefixed) secret works for us too.
		if err := webhook.Verify(strings.TrimPrefix(secret, "whsec_"), h, body); err != nil {
			t.Errorf("unprefixed secret: %v", err)
		}
		if ours := must(webhook.Sign(secret, id, now, body)); ours != sig {
			t.Errorf("got signature %s, reference %s", ours, sig)
		}
	}
}
