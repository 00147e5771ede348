// Package ssrf keeps deliveries away from private networks: it refuses
// the ranges of one table (ranges.go: the IANA special-purpose registries,
// multicast, deprecated IPv6 ranges) and every address with an IPv6 zone,
// both for literal addresses in endpoint URLs (in every spelling a resolver
// or client may read as an IP) and, at connect time, for the address a
// host name resolved to (so DNS rebinding cannot bypass it). It must not
// import any other hookd package: api and dispatch both use it.
package ssrf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// Guard decides which destinations are allowed. The zero value refuses every
// non-public address.
type Guard struct {
	// AllowPrivate opens every address without a zone (development).
	AllowPrivate bool
	// Allow opens these ranges even though they are not public.
	Allow []netip.Prefix
}

// PublicMessage is what API callers see when a resolved address is refused:
// it names neither the address nor the resolver (no network mapping).
const PublicMessage = "destination resolves to a private or reserved address"

// RefusedError is a destination the Guard refuses. Its Error names the
// address and the range, for logs; show callers Public (or PublicMessage
// for a resolved address).
type RefusedError struct {
	Addr  netip.Addr
	Range *refusedRange // nil for a zoned address
}

func (e *RefusedError) Error() string {
	if e.Range == nil {
		return fmt.Sprintf("destination %s carries an IPv6 zone", e.Addr)
	}
	return fmt.Sprintf("destination %s is in a private or reserved range (%s, %s %s)",
		e.Addr, e.Range.Prefix, e.Range.Name, e.Range.Source)
}

// IsRefused reports whether err is (or wraps) a Guard refusal.
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

// CheckAddr returns a *RefusedError when ip is not an allowed destination:
// any address with a zone (whatever the flags: a zone selects an
// interface, and the ranges below are checked on the address without it),
// otherwise one in the refused table unless AllowPrivate or Allow opens it.
func (g Guard) CheckAddr(ip netip.Addr) error {
	if ip.Zone() != "" {
		return &RefusedError{Addr: ip}
	}
	if g.AllowPrivate {
		return nil
	}
	for _, p := range g.Allow {
		if p.Contains(ip) || (ip.Is4In6() && p.Contains(ip.Unmap())) {
			return nil
		}
	}
	if r := refusedBy(ip); r != nil {
		return &RefusedError{Addr: ip, Range: r}
	}
	if ip.Is4In6() { // never reached while ::ffff:0:0/96 is in the table
		if r := refusedBy(ip.Unmap()); r != nil {
			return &RefusedError{Addr: ip, Range: r}
		}
	}
	return nil
}

// CheckURL validates an endpoint URL: absolute http or https with a host and
// no credentials; a host with an IPv6 zone is refused; a host that a
// resolver or client may read as an IP address (also 2130706433,
// 0177.0.0.1, 0x7f.1, 127.1, 127.0.0.1.) is normalised and must pass
// CheckAddr; "localhost" names are refused unless private destinations are
// allowed. Its messages name only what the caller wrote.
func (g Guard) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https")
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("host is missing")
	}
	if u.User != nil {
		return fmt.Errorf("credentials in the URL are not allowed; use custom headers")
	}
	if strings.Contains(host, "%") {
		return fmt.Errorf("host %s carries an IPv6 zone; zones are not allowed", host)
	}
	ip, literal := HostAddr(host)
	if literal {
		if err := g.CheckAddr(ip); err != nil {
			var re *RefusedError
			if errors.As(err, &re) && re.Range != nil {
				spelled := ""
				if ip.String() != strings.Trim(host, "[]") {
					spelled = " (" + ip.String() + ")"
				}
				return fmt.Errorf("destination %s%s is in a refused range: %s (%s)", host, spelled, re.Range.Name, re.Range.Prefix)
			}
			return err
		}
		return nil
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if !g.AllowPrivate && (lower == "localhost" || strings.HasSuffix(lower, ".localhost")) {
		return fmt.Errorf("destination %s is a loopback name", host)
	}
	return nil
}

// HostAddr returns the IP address that host (a URL host without port)
// denotes to some resolver or HTTP client, and true; false for a name.
// Besides the standard forms it reads the inet_aton forms of IPv4 (one to
// four parts, each decimal, octal with a leading 0 or hex with 0x: 2130706433,
// 0177.0.0.1, 0x7f.1, 127.1) and one trailing dot.
func HostAddr(host string) (netip.Addr, bool) {
	host = strings.Trim(host, "[]")
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	return parseLooseIPv4(strings.TrimSuffix(host, "."))
}

// parseLooseIPv4 parses the inet_aton forms of an IPv4 address.
func parseLooseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	var v uint64
	for i, p := range parts {
		n, ok := parseLoosePart(p)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v = v<<8 | n
			continue
		}
		rest := uint(8 * (4 - i)) // bits the last part fills
		if n >= 1<<rest {
			return netip.Addr{}, false
		}
		v = v<<rest | n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// parseLoosePart parses one part: 0x hex, leading-0 octal, or decimal.
func parseLoosePart(p string) (uint64, bool) {
	base := 10
	switch {
	case p == "":
		return 0, false
	case len(p) > 2 && (p[:2] == "0x" || p[:2] == "0X"):
		p, base = p[2:], 16
	case p == "0x" || p == "0X":
		return 0, true // inet_aton reads a bare 0x as 0
	case len(p) > 1 && p[0] == '0':
		p, base = p[1:], 8
	}
	for _, c := range p {
		if !(c >= '0' && c <= '9' || base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(p, base, 32)
	return n, err == nil
}

// Control is a net.Dialer Control function that refuses a connection whose
// resolved address is not allowed (a *RefusedError, wrapped). It runs after
// DNS resolution, for every address tried.
func (g Guard) Control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("ssrf: unexpected address %q", address)
	}
	if err := g.CheckAddr(ip); err != nil {
		return fmt.Errorf("ssrf: %w", err)
	}
	return nil
}
