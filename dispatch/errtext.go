package dispatch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/ssrf"
)

// errText turns a transport error into the short text stored with the
// attempt: no URL (the *url.Error wrapper is dropped), no secrets, no
// addresses of the dial except what the SSRF refusal names. timeout is the
// attempt timeout used in "timeout after …".
func errText(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var (
		errno  syscall.Errno
		dnsErr *net.DNSError
		netErr net.Error
		opErr  *net.OpError
	)
	switch {
	case ssrf.IsRefused(err):
		// Never the resolved address: it maps the private network.
		return ssrf.PublicMessage
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout after " + timeout.String()
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return "dns: no such host"
		}
		if dnsErr.IsTimeout {
			return "dns: timeout"
		}
		return "dns: " + scrubAddrs(dnsErr.Err)
	case errors.As(err, &errno):
		return errno.Error()
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout after " + timeout.String()
	}
	if msg, ok := tlsText(err); ok {
		return msg
	}
	if errors.As(err, &opErr) && opErr.Err != nil {
		// A refusal from the dialer's Control (the SSRF guard) or another
		// dial failure: keep the cause, drop "dial tcp host:port:".
		return scrubAddrs(strings.TrimPrefix(opErr.Err.Error(), "ssrf: "))
	}
	if errors.Is(err, io.EOF) {
		return "connection closed before a response"
	}
	return scrubAddrs(err.Error())
}

// addrRE finds candidates for IP addresses (with optional zone and port)
// in an error text; scrubAddrs checks each with netip.
var addrRE = regexp.MustCompile(`\[[0-9A-Fa-f.:]+(%[0-9A-Za-z._-]+)?\](:[0-9]+)?|[0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*(%[0-9A-Za-z._-]+)?`)

// scrubAddrs replaces every IP address in s (a resolver's, a resolved
// one; with its port) by "<address>": texts stored with attempts are shown
// to API callers, and addresses would map the network behind hookd.
func scrubAddrs(s string) string {
	return addrRE.ReplaceAllStringFunc(s, func(m string) string {
		cand := strings.TrimRight(m, ".:")
		rest := m[len(cand):]
		host := cand
		if h, _, err := net.SplitHostPort(cand); err == nil {
			host = h
		}
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			return "<address>" + rest
		}
		return m
	})
}

// errDetail is the full text of a transport error for the log: it may name
// addresses (the log is the operator's), but URLs in it lose their query
// and userinfo (they can hold tokens).
func errDetail(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + hookd.RedactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}

func tlsText(err error) (string, bool) {
	var (
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
		alertErr  tls.AlertError
	)
	switch {
	case errors.As(err, &unknown):
		return "tls: certificate signed by unknown authority", true
	case errors.As(err, &hostname):
		return "tls: certificate is not valid for the host", true
	case errors.As(err, &invalid):
		return invalid.Error(), true
	case errors.As(err, &verifyErr):
		return "tls: certificate verification failed", true
	case errors.As(err, &recordErr):
		return "tls: server did not answer with TLS", true
	case errors.As(err, &alertErr):
		return "tls: " + alertErr.Error(), true
	}
	if s := err.Error(); strings.HasPrefix(s, "tls: ") {
		return s, true
	}
	return "", false
}
