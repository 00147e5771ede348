package dispatch

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd/internal/ssrf"
)

// TestErrTextHidesAddresses: what callers see of a transport error never
// names a resolved or resolver address; the log detail keeps the address
// but not the URL's query or userinfo.
func TestErrTextHidesAddresses(t *testing.T) {
	refusal := &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("ssrf: %w", ssrf.Guard{}.Control("tcp", "10.1.2.3:443", nil))}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ssrf refusal of a resolved name", &url.Error{Op: "Post", URL: "https://internal.example/x?token=t0k", Err: refusal}, ssrf.PublicMessage},
		{"dns with resolver", &net.DNSError{Err: "read udp 10.0.0.5:41234->10.0.0.2:53: i/o error", Name: "x.example", Server: "10.0.0.2:53"}, "dns: read udp <address>-><address>: i/o error"},
		{"dns not found", &net.DNSError{Err: "no such host", Name: "x.example", Server: "10.0.0.2:53", IsNotFound: true}, "dns: no such host"},
		{"dial failure", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect to [fe80::1%eth0]:443 and 192.168.1.7:80 failed")}, "connect to <address> and <address> failed"},
		{"other", errors.New("proxy 172.16.0.9:3128 said no; v1.2.3 stays"), "proxy <address> said no; v1.2.3 stays"},
	}
	for _, tt := range tests {
		got := errText(tt.err, time.Second)
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	detail := errDetail(&url.Error{Op: "Post", URL: "https://user:pw@internal.example/x?token=t0k", Err: refusal})
	if !strings.Contains(detail, "10.1.2.3") || strings.Contains(detail, "t0k") || strings.Contains(detail, "pw@") {
		t.Errorf("log detail %q: want the address, without the token or password", detail)
	}
}
