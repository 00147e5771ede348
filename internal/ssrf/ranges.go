package ssrf

import "net/netip"

// refusedRange is one row of the refused table.
type refusedRange struct {
	Prefix netip.Prefix
	Name   string // as the registry names it
	Source string // the registry entry or RFC
}

// refused is THE table of destinations refused by default: every entry of
// the IANA IPv4 and IPv6 Special-Purpose Address Registries that is not
// globally reachable, plus multicast and the deprecated IPv6 ranges that
// can still reach IPv4 or site networks. A few registry blocks that hold
// globally reachable anycast entries (192.0.0.0/24's PCP and TURN anycast,
// 2001::/23's AMT, AS112, ORCHIDv2, DRIP) are refused whole: no webhook
// receiver lives there. The NAT64 well-known prefix (64:ff9b::/96) is
// globally reachable in the registry but refused because a NAT64 gateway
// turns it into any IPv4 address, private ones included.
// ssrf_test.go has one case per row.
var refused = []refusedRange{
	// IPv4 (iana-ipv4-special-registry), then multicast.
	{pfx("0.0.0.0/8"), "this network", "RFC 791"},
	{pfx("10.0.0.0/8"), "private-use", "RFC 1918"},
	{pfx("100.64.0.0/10"), "shared address space (CGNAT)", "RFC 6598"},
	{pfx("127.0.0.0/8"), "loopback", "RFC 1122"},
	{pfx("169.254.0.0/16"), "link local (cloud metadata)", "RFC 3927"},
	{pfx("172.16.0.0/12"), "private-use", "RFC 1918"},
	{pfx("192.0.0.0/24"), "IETF protocol assignments", "RFC 6890"},
	{pfx("192.0.2.0/24"), "documentation (TEST-NET-1)", "RFC 5737"},
	{pfx("192.88.99.0/24"), "deprecated 6to4 relay anycast", "RFC 7526"},
	{pfx("192.168.0.0/16"), "private-use", "RFC 1918"},
	{pfx("198.18.0.0/15"), "benchmarking", "RFC 2544"},
	{pfx("198.51.100.0/24"), "documentation (TEST-NET-2)", "RFC 5737"},
	{pfx("203.0.113.0/24"), "documentation (TEST-NET-3)", "RFC 5737"},
	{pfx("224.0.0.0/4"), "multicast", "RFC 5771"},
	{pfx("240.0.0.0/4"), "reserved", "RFC 1112"},
	{pfx("255.255.255.255/32"), "limited broadcast", "RFC 919"},
	// IPv6 (iana-ipv6-special-registry), then deprecated ranges and multicast.
	{pfx("::/128"), "unspecified", "RFC 4291"},
	{pfx("::1/128"), "loopback", "RFC 4291"},
	{pfx("::/96"), "IPv4-compatible (deprecated)", "RFC 4291"},
	{pfx("::ffff:0:0/96"), "IPv4-mapped", "RFC 4291"},
	{pfx("::ffff:0:0:0/96"), "IPv4-translated (SIIT)", "RFC 2765"},
	{pfx("64:ff9b::/96"), "IPv4-IPv6 translation (NAT64)", "RFC 6052"},
	{pfx("64:ff9b:1::/48"), "IPv4-IPv6 translation, local use", "RFC 8215"},
	{pfx("100::/64"), "discard-only", "RFC 6666"},
	{pfx("100:0:0:1::/64"), "dummy IPv6 prefix", "RFC 9780"},
	{pfx("2001::/23"), "IETF protocol assignments (incl. Teredo)", "RFC 2928"},
	{pfx("2001:db8::/32"), "documentation", "RFC 3849"},
	{pfx("2002::/16"), "6to4", "RFC 3056"},
	{pfx("3fff::/20"), "documentation", "RFC 9637"},
	{pfx("5f00::/16"), "segment routing SIDs", "RFC 9602"},
	{pfx("fc00::/7"), "unique-local", "RFC 4193"},
	{pfx("fe80::/10"), "link-local unicast", "RFC 4291"},
	{pfx("fec0::/10"), "site-local (deprecated)", "RFC 3879"},
	{pfx("ff00::/8"), "multicast", "RFC 4291"},
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// refusedBy returns the first row of the table that holds ip (without its
// zone), or nil.
func refusedBy(ip netip.Addr) *refusedRange {
	ip = ip.WithZone("")
	for i := range refused {
		if refused[i].Prefix.Contains(ip) {
			return &refused[i]
		}
	}
	return nil
}
