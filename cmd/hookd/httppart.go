package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
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
}

func newHTTPPart(srv *http.Server, ln net.Listener) *httpPart {
	return &httpPart{srv: srv, ln: ln, failed: make(chan error, 1), done: make(chan struct{})}
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
// until ctx ends; then it closes the connections left and returns
// ctx.Err(). Stop before Start closes the listener and returns nil; a
// second Stop returns nil.
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
	err := p.srv.Shutdown(ctx)
	if err != nil {
		p.srv.Close()
	}
	<-p.done
	return err
}
