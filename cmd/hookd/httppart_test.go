package main

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/internal/testenv"
)

// TestHTTPPartLifecycle checks the hookd.Service contract on the HTTP part.
func TestHTTPPartLifecycle(t *testing.T) {
	testenv.CheckLifecycle(t, func(t *testing.T) hookd.Service {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return newHTTPPart(&http.Server{Handler: http.NotFoundHandler()}, ln)
	})
}

// startHTTPPart serves h on a loopback port until the test ends.
func startHTTPPart(t *testing.T, h http.Handler) (*httpPart, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := newHTTPPart(&http.Server{Handler: h}, ln)
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(context.Background()) })
	return p, ln.Addr().String()
}

// A connection that never sent a request (a client's spare dial) does not
// hold Stop: http.Server.Shutdown alone waits 5 s for one, longer than the
// deadline here; Stop closes it once no request is in progress.
func TestHTTPPartStopClosesUnusedConnections(t *testing.T) {
	t.Parallel()
	p, addr := startHTTPPart(t, http.NotFoundHandler())
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := http.Get("http://" + addr + "/") // and an idle keep-alive one
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Errorf("stop with only unused and idle connections: got %v, want nil", err)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the unused connection is still open after Stop")
	}
}

// A request still in progress when the deadline passes is cut, and Stop
// says so.
func TestHTTPPartStopCutsRequests(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	p, addr := startHTTPPart(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	go func() {
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 requests in progress cut") {
		t.Errorf("stop with a request in progress past the deadline: got %v, want the cut request reported", err)
	}
}
