package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// httpPart serves an http.Server on its listener as a long-running part
// (the hookd.Service lifecycle): Start serves, Stop shuts the server down
// gracefully until ctx ends and then closes the connections left.
type httpPart struct {
	srv *http.Server
	ln  net.Listener
	// failed receives Serve's error when it ends other than by Stop.
	failed chan error

	mu      sync.Mutex
	started bool
	stopped bool
	done    chan struct{} // closed when Serve has returned

	// active holds the connections with a request in progress
	// (http.StateActive), kept by the server's ConnState hook.
	connMu sync.Mutex
	active map[net.Conn]bool
}

func newHTTPPart(srv *http.Server, ln net.Listener) *httpPart {
	p := &httpPart{srv: srv, ln: ln, failed: make(chan error, 1), done: make(chan struct{}), active: map[net.Conn]bool{}}
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		p.connMu.Lock()
		if st == http.StateActive {
			p.active[c] = true
		} else {
			delete(p.active, c)
		}
		p.connMu.Unlock()
		if prev != nil {
			prev(c, st)
		}
	}
	return p
}

// inProgress returns how many connections have a request in progress.
func (p *httpPart) inProgress() int {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	return len(p.active)
}

// Start serves in a goroutine. It returns an error when called twice or
// after Stop.
func (p *httpPart) Start(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return errors.New("http: already started")
	}
	if p.stopped {
		return errors.New("http: already stopped")
	}
	p.started = true
	go func() {
		defer close(p.done)
		if err := p.srv.Serve(p.ln); !errors.Is(err, http.ErrServerClosed) {
			p.failed <- err
		}
	}()
	return nil
}

// Stop stops accepting connections and waits for the requests in progress
// until ctx ends. Once none is in progress it closes the connections left
// at once: idle ones, and new ones that never sent a request, which
// http.Server.Shutdown would wait 5 s for. When ctx ends first it closes
// every connection and returns an error saying how many requests it cut.
// Stop before Start closes the listener and returns nil; a second Stop
// returns nil.
func (p *httpPart) Stop(ctx context.Context) error {
	p.mu.Lock()
	first, started := !p.stopped, p.started
	p.stopped = true
	p.mu.Unlock()
	if !first {
		return nil
	}
	if !started {
		p.ln.Close()
		return nil
	}
	shut := make(chan error, 1)
	go func() { shut <- p.srv.Shutdown(ctx) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-shut:
			var cut int
			if err != nil {
				cut = p.inProgress()
				p.srv.Close()
			}
			<-p.done
			if err != nil && cut > 0 {
				return fmt.Errorf("grace over, %d requests in progress cut: %w", cut, err)
			}
			return nil
		case <-tick.C:
			if p.inProgress() == 0 {
				p.srv.Close() // Shutdown then returns: no connection is left
			}
		}
	}
}
