package dispatch

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/webhook"
)

// envelopeTime is the Standard Webhooks timestamp layout of the body.
const envelopeTime = "2006-01-02T15:04:05.000Z"

// appendEnvelope appends the Standard Webhooks body of ev to dst:
// {"id":…,"type":…,"timestamp":…,"data":<payload>}. The payload is copied
// byte for byte, never re-encoded; an empty payload becomes null.
func appendEnvelope(dst []byte, ev *hookd.Event) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendJSONString(dst, ev.ID)
	dst = append(dst, `,"type":`...)
	dst = appendJSONString(dst, ev.Type)
	dst = append(dst, `,"timestamp":"`...)
	dst = ev.CreatedAt.UTC().AppendFormat(dst, envelopeTime)
	dst = append(dst, `","data":`...)
	if len(ev.Payload) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, ev.Payload...)
	}
	return append(dst, '}')
}

func appendJSONString(dst []byte, s string) []byte {
	b, err := json.Marshal(s)
	if err != nil { // strings always marshal
		panic(err)
	}
	return append(dst, b...)
}

// reservedHeaders are set by hookd on every request; endpoint custom headers
// cannot replace them. Hop-by-hop and framing headers are dropped as well.
var reservedHeaders = map[string]bool{
	"Content-Type":      true,
	"Webhook-Id":        true,
	"Webhook-Timestamp": true,
	"Webhook-Signature": true,
	"X-Idempotency-Key": true,
	"X-Signature":       true,
	"User-Agent":        true,
	"Host":              true,
	"Content-Length":    true,
	"Transfer-Encoding": true,
	"Connection":        true,
	"Keep-Alive":        true,
	"Te":                true,
	"Trailer":           true,
	"Upgrade":           true,
}

// errNoSecret is returned when none of the endpoint's secrets can sign.
var errNoSecret = errors.New("endpoint has no valid signing secret")

// signHeaders fills h for a request carrying body for ev to ep at time now:
// custom headers first, then the reserved ones so they always win.
func signHeaders(h http.Header, ep *hookd.Endpoint, ev *hookd.Event, body []byte, now time.Time, userAgent string) error {
	for k, v := range ep.Headers {
		ck := http.CanonicalHeaderKey(k)
		if reservedHeaders[ck] {
			continue
		}
		h[ck] = []string{v}
	}
	secrets := ep.SigningSecrets(now)
	sigs := make([]byte, 0, 48*len(secrets))
	for _, s := range secrets {
		sig, err := webhook.Sign(s, ev.ID, now, body)
		if err != nil {
			continue // a malformed secret signs nothing; the others still do
		}
		if len(sigs) > 0 {
			sigs = append(sigs, ' ')
		}
		sigs = append(sigs, sig...)
	}
	if len(sigs) == 0 {
		return errNoSecret
	}
	h["Content-Type"] = []string{"application/json"}
	h["Webhook-Id"] = []string{ev.ID}
	h["Webhook-Timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
	h["Webhook-Signature"] = []string{string(sigs)}
	h["X-Idempotency-Key"] = []string{ev.ID}
	h["X-Signature"] = []string{webhook.SignPlain(ep.Secret, body)}
	h["User-Agent"] = []string{userAgent}
	return nil
}
