package main

import (
	"net"
	"net/http"
	"testing"

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
