package ssrf

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestZoneOnRealInterface: on a real non-loopback interface (one end of a
// veth pair whose peer sits in a network namespace made here, with no
// route out: nothing leaves the machine), a link-local address with its
// zone is reachable by a plain dialer, and the Guard's Control refuses it
// whatever the flags, before any packet is sent. Skips where creating
// namespaces or links is not permitted.
func TestZoneOnRealInterface(t *testing.T) {
	suffix := fmt.Sprintf("%d", os.Getpid()%100000)
	ns, a, b := "hookd9-"+suffix, "h9a"+suffix, "h9b"+suffix
	run := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := run("netns", "add", ns); err != nil {
		t.Skipf("cannot create a network namespace here (needs root and iproute2): %v", err)
	}
	t.Cleanup(func() { run("netns", "del", ns) })
	if err := run("link", "add", a, "type", "veth", "peer", "name", b, "netns", ns); err != nil {
		t.Skipf("cannot create a veth pair here: %v", err)
	}
	t.Cleanup(func() { run("link", "del", a) })
	for _, args := range [][]string{
		{"addr", "add", "fe80::9:1/64", "dev", a, "nodad"},
		{"link", "set", a, "up"},
		{"-n", ns, "addr", "add", "fe80::9:2/64", "dev", b, "nodad"},
		{"-n", ns, "link", "set", b, "up"},
	} {
		if err := run(args...); err != nil {
			t.Skipf("cannot configure the veth pair (IPv6 disabled?): %v", err)
		}
	}
	var ln net.Listener
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err = net.Listen("tcp6", "[fe80::9:1%"+a+"]:0")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the address becomes usable once the link is up
	}
	if err != nil {
		t.Skipf("cannot listen on the link-local address: %v", err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	addr := fmt.Sprintf("[fe80::9:1%%%s]:%d", a, ln.Addr().(*net.TCPAddr).Port) // Addr() drops the zone

	plain := net.Dialer{Timeout: 5 * time.Second}
	c, err := plain.Dial("tcp6", addr)
	if err != nil {
		t.Fatalf("plain dial of %s: %v (the address must be reachable for the refusal to mean anything)", addr, err)
	}
	c.Close()
	<-accepted

	for _, g := range []Guard{{}, {AllowPrivate: true}} {
		d := net.Dialer{Timeout: 5 * time.Second, Control: g.Control}
		if c, err := d.Dial("tcp6", addr); err == nil {
			c.Close()
			t.Fatalf("%+v: dial of %s succeeded, want the zone refused", g, addr)
		} else if !IsRefused(err) {
			t.Fatalf("%+v: dial of %s: got %v, want a RefusedError", g, addr, err)
		}
		if err := g.CheckURL("http://" + strings.Replace(addr, "%", "%25", 1) + "/hook"); err == nil || !strings.Contains(err.Error(), "zone") {
			t.Errorf("%+v: CheckURL of %s: got %v, want a zone refusal", g, addr, err)
		}
	}
	select {
	case <-accepted:
		t.Fatal("a guarded dial reached the listener")
	case <-time.After(100 * time.Millisecond):
	}
}
