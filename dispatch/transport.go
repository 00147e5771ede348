package dispatch

import (
	"net"
	"net/http"
	"time"

	"github.com/hookd/hookd/internal/ssrf"
)

// newTransport returns the one HTTP transport shared by every attempt:
// keep-alive pools per host sized for the worker count, no proxy (a proxy
// would hide the destination from the SSRF check), the Guard checking each
// resolved address at connect time, and bounded handshakes and headers.
func newTransport(workers int, timeout time.Duration, guard ssrf.Guard) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   min(timeout, 10*time.Second),
		KeepAlive: 30 * time.Second,
		Control:   guard.Control,
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(2*workers, 100),
		MaxIdleConnsPerHost:    max(workers, 16),
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    min(timeout, 10*time.Second),
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// newClient wraps rt in a client that never follows redirects: a 3xx is
// returned as is and counts as a failed attempt.
func newClient(rt http.RoundTripper) *http.Client {
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
