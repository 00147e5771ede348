package webhook

import (
	"net/http"
	"strings"
)

// Header names of a delivered webhook (DESIGN section 4). Look-ups accept any
// letter case.
const (
	HeaderID             = "webhook-id"
	HeaderTimestamp      = "webhook-timestamp"
	HeaderSignature      = "webhook-signature"
	HeaderPlainSignature = "X-Signature"
	HeaderIdempotencyKey = "X-Idempotency-Key"
)

// headerValue returns the values of header name joined by a space. It reads
// the canonical key first and then the key exactly as given, so headers built
// by hand with lowercase keys (e.g. from a serverless event) work too.
func headerValue(h http.Header, name string) string {
	vs := h.Values(name)
	if len(vs) == 0 {
		vs = h[name]
	}
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	return strings.Join(vs, " ")
}
