package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP on 127.0.0.1 to a target (Postgres in tests) and can
// cut every connection and refuse new ones (Down), then come back on the
// same address (Up): a database that goes away without stopping the real
// server, which other tests share.
type Proxy struct {
	t      testing.TB
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
	wg    sync.WaitGroup
}

// StartProxy starts a Proxy to target; it is closed at the end of the test.
func StartProxy(t testing.TB, target string) *Proxy {
	p := &Proxy{t: t, addr: "127.0.0.1:0", target: target}
	p.Up()
	t.Cleanup(p.Down)
	return p
}

// Addr is the proxy's host:port, the same after a Down and Up.
func (p *Proxy) Addr() string { return p.addr }

// Up listens on the proxy's address and forwards every connection.
func (p *Proxy) Up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(s, c); s.Close() })
			p.wg.Go(func() { io.Copy(c, s); c.Close() })
		}
	})
}

// Down closes the listener and every connection, and waits for the copies.
func (p *Proxy) Down() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
