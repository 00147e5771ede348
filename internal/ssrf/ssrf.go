// Package ssrf keeps deliveries away from private networks: it refuses
// loopback, private, link-local, CGNAT, multicast and unspecified addresses,
// both for literal addresses in endpoint URLs and, at connect time, for the
// address a host name resolved to (so DNS rebinding cannot bypass it).
package ssrf

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Guard decides which destinations are allowed. The zero value refuses every
// non-public address.
type Guard struct {
	// AllowPrivate opens every address (development).
	AllowPrivate bool
	// Allow opens these ranges even though they are not public.
	Allow []netip.Prefix
}

var blocked = mustPrefixes(
	"0.0.0.0/8",      // unspecified / "this network"
	"10.0.0.0/8",     // RFC 1918
	"100.64.0.0/10",  // CGNAT
	"127.0.0.0/8",    // loopback
	"169.254.0.0/16", // link-local, cloud metadata
	"172.16.0.0/12",  // RFC 1918
	"192.0.0.0/24",   // IETF protocol assignments
	"192.168.0.0/16", // RFC 1918
	"198.18.0.0/15",  // benchmarking
	"224.0.0.0/4",    // multicast
	"240.0.0.0/4",    // reserved, broadcast
	"::/128",         // unspecified
	"::1/128",        // loopback
	"fc00::/7",       // unique local
	"fe80::/10",      // link-local
	"ff00::/8",       // multicast
	"64:ff9b::/96",   // NAT64 can reach IPv4 private space
	"2002::/16",      // 6to4 likewise
)

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// CheckAddr returns an error when ip is not an allowed destination.
func (g Guard) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	if g.AllowPrivate {
		return nil
	}
	for _, p := range g.Allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return fmt.Errorf("destination %s is in a private or reserved range (%s)", ip, p)
		}
	}
	return nil
}

// CheckURL validates an endpoint URL: absolute http or https with a host and
// no credentials; a literal IP host must pass CheckAddr, and "localhost"
// names are refused unless private destinations are allowed.
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
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return g.CheckAddr(ip)
	}
	lower := strings.ToLower(strings.TrimSuffix(host, "."))
	if !g.AllowPrivate && (lower == "localhost" || strings.HasSuffix(lower, ".localhost")) {
		return fmt.Errorf("destination %s is a loopback name", host)
	}
	return nil
}

// Control is a net.Dialer Control function that refuses a connection whose
// resolved address is not allowed. It runs after DNS resolution, for every
// address tried.
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
