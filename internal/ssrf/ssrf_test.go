package ssrf

import (
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestRefusedTable: one case per row of the refused table. Its first and
// last address are refused with that row (or an earlier one that holds
// them), and the address just outside the row is not refused by it.
func TestRefusedTable(t *testing.T) {
	var g Guard
	for _, r := range refused {
		t.Run(r.Prefix.String()+" "+r.Name, func(t *testing.T) {
			first, last := r.Prefix.Masked().Addr(), lastAddr(r.Prefix)
			for _, ip := range []netip.Addr{first, last} {
				err := g.CheckAddr(ip)
				var re *RefusedError
				if !errors.As(err, &re) || re.Range == nil || !re.Range.Prefix.Contains(ip) {
					t.Fatalf("CheckAddr(%s): got %v, want refused by a range holding it", ip, err)
				}
			}
			if next := last.Next(); next.IsValid() {
				if by := refusedBy(next); by != nil && by.Prefix == r.Prefix {
					t.Errorf("%s (just after the row) is refused by the row itself", next)
				}
			}
			if err := (Guard{AllowPrivate: true}).CheckAddr(first); err != nil {
				t.Errorf("AllowPrivate: CheckAddr(%s) = %v, want nil", first, err)
			}
			if err := (Guard{Allow: []netip.Prefix{r.Prefix}}).CheckAddr(last); err != nil {
				t.Errorf("Allow %s: CheckAddr(%s) = %v, want nil", r.Prefix, last, err)
			}
		})
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// TestPublicAddressesAllowed: ordinary public addresses pass, among them
// neighbours of refused ranges.
func TestPublicAddressesAllowed(t *testing.T) {
	var g Guard
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "11.0.0.1", "100.128.0.1", "172.32.0.1", "192.0.1.1",
		"192.169.0.1", "198.20.0.1", "223.255.255.255", "2606:4700:4700::1111", "2a00:1450:4001::1",
		"2001:4860:4860::8888", "2003::1"} {
		if err := g.CheckAddr(netip.MustParseAddr(s)); err != nil {
			t.Errorf("CheckAddr(%s) = %v, want nil", s, err)
		}
	}
}

// TestZones: an address with a zone is refused whatever the flags, and the
// range check of the address without its zone still applies.
func TestZones(t *testing.T) {
	for _, g := range []Guard{{}, {AllowPrivate: true}, {Allow: []netip.Prefix{pfx("::/0"), pfx("0.0.0.0/0")}}} {
		for _, s := range []string{"::1%lo", "fe80::1%eth0", "fe80::1%2", "2606:4700::1%eth0", "ff02::1%lo"} {
			if err := g.CheckAddr(netip.MustParseAddr(s)); !IsRefused(err) {
				t.Errorf("%+v: CheckAddr(%s) = %v, want refused", g, s, err)
			}
			if err := g.Control("tcp6", "["+s+"]:443", nil); !IsRefused(err) {
				t.Errorf("%+v: Control([%s]:443) = %v, want refused", g, s, err)
			}
		}
		for _, raw := range []string{"http://[::1%25lo]:8080/", "http://[fe80::1%25eth0]/x", "https://[2606:4700::1%25eth0]/"} {
			if err := g.CheckURL(raw); err == nil || !strings.Contains(err.Error(), "zone") {
				t.Errorf("%+v: CheckURL(%s) = %v, want a zone refusal", g, raw, err)
			}
		}
	}
	if by := refusedBy(netip.MustParseAddr("fe80::1%eth0")); by == nil || by.Prefix != pfx("fe80::/10") {
		t.Errorf("refusedBy(fe80::1%%eth0) = %v, want fe80::/10", by)
	}
}

// TestLiteralForms: every spelling a resolver or client reads as an IP is
// normalised and checked at creation.
func TestLiteralForms(t *testing.T) {
	tests := []struct {
		host string
		want string // the address it denotes, "" for a name
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.1", "127.0.0.1"},
		{"0x7F000001", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"127.0.0.1.", "127.0.0.1"},
		{"0177.1.", "127.0.0.1"},
		{"127.000.000.001", "127.0.0.1"},
		{"0", "0.0.0.0"},
		{"0x0a.0.0.1", "10.0.0.1"},
		{"169.254.43518", "169.254.169.254"},
		{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
		{"[::127.0.0.1]", "::7f00:1"},
		{"[0:0:0:0:0:0:0:1]", "::1"},
		{"8.8.8.8", "8.8.8.8"},
		{"134744072", "8.8.8.8"},
		{"example.com", ""},
		{"127.0.0.1.example.com", ""},
		{"1.2.3.4.5", ""},
		{"256.1.1.1", ""},
		{"08.0.0.1", ""},
		{"4294967296", ""},
		{"0x100000000", ""},
		{"1.0x1000000", ""},
	}
	for _, tt := range tests {
		ip, ok := HostAddr(tt.host)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != tt.want {
			t.Errorf("HostAddr(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
	var g Guard
	for _, host := range []string{"2130706433", "0177.0.0.1", "0x7f.1", "127.1", "127.0.0.1.", "[::ffff:127.0.0.1]",
		"[::127.0.0.1]", "0", "169.254.43518", "0x0a.0.0.1", "[::ffff:0:a00:1]", "[64:ff9b:1::1]", "[fec0::1]"} {
		raw := "http://" + host + ":8080/hook"
		err := g.CheckURL(raw)
		if err == nil || !strings.Contains(err.Error(), "refused range") {
			t.Errorf("CheckURL(%s) = %v, want a refused range", raw, err)
		}
	}
	for _, raw := range []string{"https://134744072/", "https://8.8.8.8./", "https://example.com./", "http://[2606:4700::1]:80/"} {
		if err := g.CheckURL(raw); err != nil {
			t.Errorf("CheckURL(%s) = %v, want nil", raw, err)
		}
	}
	if err := (Guard{AllowPrivate: true}).CheckURL("http://127.1:8080/"); err != nil {
		t.Errorf("AllowPrivate: CheckURL(127.1) = %v, want nil", err)
	}
}

// TestControlRefusal: the connect-time check refuses with a RefusedError
// whose detail is for logs only.
func TestControlRefusal(t *testing.T) {
	err := Guard{}.Control("tcp4", "10.1.2.3:443", nil)
	if !IsRefused(err) || !strings.Contains(err.Error(), "10.1.2.3") {
		t.Errorf("Control(10.1.2.3) = %v, want a refusal naming the address", err)
	}
	if err := (Guard{}).Control("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("Control(8.8.8.8) = %v, want nil", err)
	}
}

// FuzzCheckURL: CheckURL never panics, and a URL it accepts with the zero
// Guard has no zone and no host that any parser (netip, net.ParseIP, the
// inet_aton forms) reads as a refused address.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/hook", "http://127.0.0.1/", "http://[::1%25lo]:8080/", "http://[fe80::1%25eth0]/",
		"http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/", "http://127.1/", "http://127.0.0.1./",
		"http://[::ffff:127.0.0.1]/", "http://[::127.0.0.1]/", "http://%31%32%37.0.0.1/", "http://localhost./",
		"http://user:pw@example.com/", "ftp://x/", "http://[64:ff9b:1::1]/", "http://0x/", "http://1.2.3/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var g Guard
		if g.CheckURL(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("accepted %q that url.Parse refuses: %v", raw, err)
		}
		host := u.Hostname()
		if strings.Contains(host, "%") {
			t.Fatalf("accepted %q with a zone", raw)
		}
		if ip, ok := HostAddr(host); ok && g.CheckAddr(ip) != nil {
			t.Fatalf("accepted %q whose host is %s", raw, ip)
		}
		if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
			a, _ := netip.AddrFromSlice(ip)
			if g.CheckAddr(a.Unmap()) != nil {
				t.Fatalf("accepted %q that net.ParseIP reads as %s", raw, ip)
			}
		}
	})
}
